// Debian's chromium through playwright-core (no browser download: /usr/bin/chromium, headless;
// --no-sandbox when running as root, where chromium's sandbox cannot start), and the helpers the
// tests share: data-testid locators, the progress a bar shows, the API key through the page.
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

export async function launch() {
  // chromium's sandbox cannot start as root: --no-sandbox then (playwright adds it when
  // chromiumSandbox is false); as another user the sandbox stays on.
  const root = process.getuid && process.getuid() === 0;
  return chromium.launch({ executablePath: CHROMIUM, headless: true, chromiumSandbox: !root });
}

export const tid = (page, id) => page.locator(`[data-testid="${id}"]`);

// The percentage a progress element shows: aria-valuenow / aria-valuemax, a <progress>'s or
// <meter>'s value / max, data-value, a "NN%" in its text, else the width of its first child as a
// share of its own (a styled bar). Runs in the page: pass it to page.evaluate as a string.
export const PROGRESS_FN = `(el) => {
  if (!el) return null;
  const num = (v) => (v === null || v === undefined || v === '' ? null : Number(v));
  let v = num(el.getAttribute('aria-valuenow')), max = num(el.getAttribute('aria-valuemax'));
  if (v === null) {
    const inner = el.querySelector('[aria-valuenow]');
    if (inner) { v = num(inner.getAttribute('aria-valuenow')); max = num(inner.getAttribute('aria-valuemax')); }
  }
  if (v === null && (el.tagName === 'PROGRESS' || el.tagName === 'METER')) { v = el.value; max = el.max; }
  if (v === null) {
    const inner = el.querySelector('progress, meter');
    if (inner) { v = inner.value; max = inner.max; }
  }
  if (v === null) v = num(el.getAttribute('data-value'));
  // a progressbar without a value is indeterminate
  if (v === null && (el.getAttribute('role') === 'progressbar' || el.querySelector('[role="progressbar"]'))) return null;
  if (v !== null && !Number.isNaN(v)) return (max ? v / max : v > 1 ? v / 100 : v) * 100;
  const m = /(\\d+(?:\\.\\d+)?)\\s*%/.exec(el.textContent || '');
  if (m) return Number(m[1]);
  const child = el.firstElementChild;
  if (child) {
    const w = child.getBoundingClientRect().width, W = el.getBoundingClientRect().width;
    if (W > 0) return (w / W) * 100;
  }
  return null;
}`;

export async function progressOf(locator) {
  return locator.evaluate(new Function(`return (${PROGRESS_FN})`)());
}

// Numbers in a text ("1–50 of 1,234" → [1, 50, 1234]); thousands separators of any locale.
export function numbersIn(text) {
  return (text.match(/\d[\d,.\u00a0\u202f' ]*\d|\d/g) || []).map((s) => Number(s.replace(/[^\d]/g, '')));
}

// Waits until the page has had no request in flight (streams of events aside) for quietMs, at
// most timeoutMs (then goes on: a page that polls is never quiet for long). Playwright's
// 'networkidle' never comes while an event stream is open.
const inflight = new WeakMap();
export function trackRequests(page) {
  if (inflight.has(page)) return;
  const s = { n: 0, last: Date.now() };
  inflight.set(page, s);
  const streaming = (r) => /\/events(\?|$)/.test(r.url()) || r.resourceType() === 'eventsource';
  page.on('request', (r) => {
    if (!streaming(r)) s.n++, (s.last = Date.now());
  });
  const done = (r) => {
    if (!streaming(r)) s.n = Math.max(0, s.n - 1), (s.last = Date.now());
  };
  page.on('requestfinished', done);
  page.on('requestfailed', done);
}
export async function settle(page, { quietMs = 300, timeoutMs = 10000 } = {}) {
  trackRequests(page);
  const s = inflight.get(page);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (s.n === 0 && Date.now() - s.last >= quietMs) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
