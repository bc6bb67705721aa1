// tests/e2e/run --bench (scripts/bench/dashboard): the dashboard measured in headless chromium on
// the real stack. Three runs of each, medians (and every value) as a Markdown section on stdout;
// progress on stderr.
//   1. First load of / (a fresh browser context each run: empty cache), 2,000 prospects stored:
//      navigation start to first contentful paint, to the load event, to the first table row;
//      the JS and CSS the page loaded: bytes transferred (the gateway sends gzip) and the gzip
//      size of each file (level 9, as the gateway compresses).
//   2. The prospects table with 100,000 prospects (imported through POST /api/prospects/import):
//      navigation to the first rows; a page change (prospects-next clicked to the first row
//      changed), 10 in a row; a search typed to the rows updated; and that no GET
//      /api/prospects the page made asked for, or got, more than one page.
//   3. A job's page following 10,000 targets live: a submit-only run of 10,000 targets
//      (stages ["submit"]) served by prospect-test-worker as the form service (each task 100 ms,
//      64 at once: about 16 s), the page opened as the run starts; long tasks (a
//      PerformanceObserver 'longtask', buffered) while it follows, and the time from the job's
//      end (its `finished`, the gateway's clock: the same machine) to the page showing completed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { PROGRESS_FN, settle, tid, trackRequests } from './lib/browser.mjs';
import { Stack, log } from './lib/stack.mjs';

const RUNS = Number(process.env.BENCH_RUNS || 3);
const JOB_TARGETS = Number(process.env.BENCH_JOB_TARGETS || 10000);
const BIG = Number(process.env.BENCH_PROSPECTS || 100000);
const PAGE_CHANGES = 10;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ms = (x) => (x === null || x === undefined || Number.isNaN(x) ? 'n/a' : `${Math.round(x)} ms`);
const kb = (x) => `${(x / 1024).toFixed(1)} KiB`;

async function newPage(b, stack) {
  const context = await b.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
  await context.addInitScript((key) => {
    localStorage.setItem('pa.apiKey', key);
    window.__longtasks = [];
    try {
      new PerformanceObserver((l) => {
        for (const e of l.getEntries()) window.__longtasks.push({ start: e.startTime, duration: e.duration });
      }).observe({ type: 'longtask', buffered: true });
    } catch {
      window.__longtasks = null;
    }
  }, stack.apiKey);
  const page = await context.newPage();
  trackRequests(page);
  page.setDefaultTimeout(60000);
  return { context, page };
}

// The JS and CSS a page loaded: [{name, start, transfer}] from resource timing.
function sizes(dist, assets) {
  let gz = 0, raw = 0, transfer = 0;
  for (const a of assets) {
    const body = fs.readFileSync(path.join(dist, decodeURIComponent(new URL(a.name).pathname)));
    raw += body.length;
    gz += zlib.gzipSync(body, { level: 9 }).length;
    transfer += a.transfer;
  }
  return { files: assets.length, raw, gz, transfer };
}

async function firstLoad(b, stack, dist) {
  const html = fs.readFileSync(path.join(dist, 'index.html'), 'utf8');
  const entry = new Set([...html.matchAll(/(?:src|href)="([^"]+\.(?:m?js|css))"/g)].map((m) => new URL(m[1], 'http://x/').pathname));
  const { context, page } = await newPage(b, stack);
  await page.goto(stack.url + '/', { waitUntil: 'load' });
  await tid(page, 'prospects-row').first().waitFor();
  const rowsAt = await page.evaluate(() => performance.now());
  // then the pages the app fetches ahead when idle
  await settle(page, { quietMs: 1000 });
  const m = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const fcp = performance.getEntriesByName('first-contentful-paint')[0];
    const res = performance.getEntriesByType('resource').map((r) => ({ name: r.name, start: r.startTime, transfer: r.transferSize }));
    return { fcp: fcp ? fcp.startTime : null, load: nav.loadEventEnd, res, longtasks: window.__longtasks };
  });
  const assets = m.res.filter((r) => /\.(m?js|css)(\?|$)/.test(new URL(r.name).pathname));
  await context.close();
  return {
    fcp: m.fcp,
    load: m.load,
    rows: rowsAt,
    // the first page's own code: what index.html names (script, stylesheet, modulepreload)
    first: sizes(dist, assets.filter((a) => entry.has(new URL(a.name).pathname))),
    all: sizes(dist, assets),
    longtasks: (m.longtasks || []).filter((x) => x.start <= rowsAt).length,
  };
}

async function table(b, stack) {
  const { context, page } = await newPage(b, stack);
  const reqs = [];
  page.on('response', async (r) => {
    const u = new URL(r.url());
    if (u.pathname !== '/api/prospects' || r.request().method() !== 'GET') return;
    const body = await r.json().catch(() => null);
    reqs.push({ limit: Number(u.searchParams.get('limit') || 100), items: Array.isArray(body) ? body.length : null, bytes: (await r.body().catch(() => Buffer.alloc(0))).length });
  });
  await page.goto(stack.url + '/');
  await tid(page, 'prospects-row').first().waitFor();
  const firstRows = await page.evaluate(() => performance.now());
  const pageSize = await tid(page, 'prospects-row').count();
  const changes = [];
  for (let i = 0; i < PAGE_CHANGES; i++) {
    const before = await tid(page, 'prospects-row').first().getAttribute('data-id');
    const t = await page.evaluate(() => {
      window.__t0 = performance.now();
      return window.__t0;
    });
    await tid(page, 'prospects-next').click();
    await page.waitForFunction((b0) => {
      const r = document.querySelector('[data-testid="prospects-row"]');
      return r && r.getAttribute('data-id') !== b0;
    }, before, { polling: 'raf' });
    changes.push((await page.evaluate(() => performance.now())) - t);
  }
  // a search: typed at once (fill), to the rows changed
  const before = await tid(page, 'prospects-row').first().getAttribute('data-id');
  const t0 = await page.evaluate(() => performance.now());
  await tid(page, 'prospects-search').fill('müller');
  await page.waitForFunction((b0) => {
    const r = document.querySelector('[data-testid="prospects-row"]');
    return r && r.getAttribute('data-id') !== b0;
  }, before, { polling: 'raf' });
  const search = (await page.evaluate(() => performance.now())) - t0;
  const longtasks = await page.evaluate(() => window.__longtasks);
  await context.close();
  const worst = Math.max(...reqs.map((r) => r.items ?? Infinity));
  const maxLimit = Math.max(...reqs.map((r) => r.limit));
  return { firstRows, pageSize, change: median(changes), changes, search, requests: reqs.length, worst, maxLimit, maxBytes: Math.max(...reqs.map((r) => r.bytes)), longtasks };
}

async function job(b, stack) {
  const targets = Array.from({ length: JOB_TARGETS }, (_, i) => `https://t${i}.bench-${Date.now() % 1e6}.example/`);
  const { context, page } = await newPage(b, stack);
  await page.goto(stack.url + '/jobs');
  await settle(page);
  const r = await stack.api('POST', '/api/automation/contact-forms/run', {
    message_template: 'Hello {{company|there}}',
    targets,
    options: { enrich: false, stages: ['submit'] },
  });
  if (r.status !== 202) throw new Error(`run: ${r.status} ${r.text}`);
  const id = r.json.job_id;
  await page.evaluate((fnSrc) => {
    const progressOf = new Function(`return (${fnSrc})`)();
    window.__lt0 = window.__longtasks ? window.__longtasks.length : 0;
    window.__doneAt = null;
    window.__bar = [];
    const look = () => {
      const st = document.querySelector('[data-testid="job-status"]');
      if (!window.__doneAt && st && /completed/i.test(st.textContent)) window.__doneAt = Date.now();
      const v = progressOf(document.querySelector('[data-testid="job-progress"]'));
      if (v !== null && window.__bar.at(-1) !== v) window.__bar.push(v);
    };
    new MutationObserver(look).observe(document.documentElement, { subtree: true, childList: true, characterData: true, attributes: true });
  }, PROGRESS_FN);
  // to the job's page inside the app (history.pushState and a popstate, as the app's links do)
  const opened = Date.now();
  await page.evaluate((p) => {
    history.pushState({}, '', p);
    dispatchEvent(new PopStateEvent('popstate'));
  }, `/jobs/${id}`);
  await tid(page, 'job-progress').waitFor();
  const pageAt = Date.now() - opened;
  const deadline = Date.now() + 180000;
  let finished = null, started = null;
  for (;;) {
    const j = (await stack.api('GET', `/api/jobs/${id}`)).json;
    if (j.status === 'completed') {
      finished = Date.parse(j.finished);
      started = Date.parse(j.created);
      break;
    }
    if (Date.now() > deadline) throw new Error(`job ${id} did not complete: ${JSON.stringify(j).slice(0, 400)}`);
    await new Promise((res) => setTimeout(res, 200));
  }
  await page.waitForFunction(() => window.__doneAt, null, { timeout: 60000 });
  const res = await page.evaluate(() => ({ doneAt: window.__doneAt, lt: (window.__longtasks || []).slice(window.__lt0), supported: !!window.__longtasks, bar: window.__bar }));
  const succeeded = await tid(page, 'job-count-succeeded').textContent().catch(() => '');
  const lt = res.lt;
  await context.close();
  return {
    id,
    duration: finished - started,
    pageAt,
    lag: res.doneAt - finished,
    longtasks: lt.length,
    longMax: lt.length ? Math.max(...lt.map((x) => x.duration)) : 0,
    longSum: lt.reduce((s, x) => s + x.duration, 0),
    blocking: lt.reduce((s, x) => s + Math.max(0, x.duration - 50), 0),
    supported: res.supported,
    barUpdates: res.bar.length,
    barBelow50: res.bar.filter((v) => v > 0 && v < 50).length,
    succeeded: succeeded.trim(),
  };
}

export async function main({ dist, keep, browser, track, closeAll }) {
  const stack = track(new Stack({ dist, sites: [], formWorker: 'test', testWorkerDelayMs: 100, testWorkerCapacity: 64, keepTmp: keep, gatewayEnv: { RUN_RATE_PER_MIN: '600', RUN_BURST: '100' } }));
  let ok = false;
  const outRows = [];
  try {
    const load0 = os.loadavg();
    await stack.start();
    await stack.loadProspects(2000);
    const b = await browser();
    const version = b.version();

    const loads = [];
    for (let i = 0; i < RUNS; i++) {
      loads.push(await firstLoad(b, stack, dist));
      log(`first load ${i + 1}: ${JSON.stringify(loads.at(-1))}`);
    }

    log(`importing ${BIG} prospects`);
    const t0 = Date.now();
    await stack.loadProspects(BIG);
    const importMs = Date.now() - t0;
    log(`imported in ${importMs} ms`);
    const total = Number((await stack.api('GET', '/api/prospects?limit=1')).headers.get('x-total-count'));
    const tables = [];
    for (let i = 0; i < RUNS; i++) {
      tables.push(await table(b, stack));
      log(`table ${i + 1}: ${JSON.stringify({ ...tables.at(-1), longtasks: tables.at(-1).longtasks?.length })}`);
    }

    const jobs = [];
    for (let i = 0; i < RUNS; i++) {
      jobs.push(await job(b, stack));
      log(`job ${i + 1}: ${JSON.stringify(jobs.at(-1))}`);
    }

    const col = (xs, f, fmt = ms) => `${fmt(median(xs.map(f)))} (${xs.map((x) => fmt(f(x))).join(' / ')})`;
    outRows.push(
      `Chromium ${version} headless (Debian), 1280x800, on the 2-core VM that also runs the whole stack ` +
        `(load average ${load0.map((x) => x.toFixed(2)).join(', ')} at the start: other work shares the machine); ${RUNS} runs each, median (runs). ` +
        `The ${BIG.toLocaleString('en-US')} prospects went in through POST /api/prospects/import (NDJSON from scripts/gen-data) in ${(importMs / 1000).toFixed(1)} s.`,
      '',
      '| measurement | median (runs) |',
      '| --- | --- |',
      `| first load of \`/\` (2,000 prospects): navigation to first contentful paint | ${col(loads, (x) => x.fcp)} |`,
      `| the same: to the load event | ${col(loads, (x) => x.load)} |`,
      `| the same: to the first table row | ${col(loads, (x) => x.rows)} |`,
      `| the same: long tasks before the first row | ${col(loads, (x) => x.longtasks, String)} |`,
      `| the first page's JS + CSS (what index.html names): ${loads[0].first.files} files, ${kb(loads[0].first.raw)} | gzip -9: ${kb(loads[0].first.gz)}; transferred (the gateway's gzip, with headers): ${kb(median(loads.map((x) => x.first.transfer)))} |`,
      `| all JS + CSS loaded (with the other pages' code the app fetches ahead when idle): ${loads[0].all.files} files, ${kb(loads[0].all.raw)} | gzip -9: ${kb(loads[0].all.gz)}; transferred: ${kb(median(loads.map((x) => x.all.transfer)))} |`,
      `| prospects table, ${total.toLocaleString('en-US')} prospects: navigation to the first rows | ${col(tables, (x) => x.firstRows)} |`,
      `| the same: a page change (${PAGE_CHANGES} in a row, median of each run) | ${col(tables, (x) => x.change)} |`,
      `| the same: a search typed, to the rows updated | ${col(tables, (x) => x.search)} |`,
      `| the same: GET /api/prospects per run; most rows one answered (page size ${tables[0].pageSize}); largest \`limit\` asked; largest body | ${tables.map((x) => x.requests).join(' / ')} requests; ${Math.max(...tables.map((x) => x.worst))} rows; limit ${Math.max(...tables.map((x) => x.maxLimit))}; ${kb(Math.max(...tables.map((x) => x.maxBytes)))} |`,
      `| job page following ${JOB_TARGETS.toLocaleString('en-US')} targets live (the job ran ${col(jobs, (x) => x.duration, (v) => `${(v / 1000).toFixed(1)} s`)}): long tasks | ${col(jobs, (x) => x.longtasks, String)} |`,
      `| the same: changes of the progress bar the page drew (values between 0 and 100 %) | ${col(jobs, (x) => x.barUpdates, String)} |`,
      `| the same: longest long task | ${col(jobs, (x) => x.longMax)} |`,
      `| the same: total blocking time (sum of long tasks' time over 50 ms) | ${col(jobs, (x) => x.blocking)} |`,
      `| the same: the job's end to the page showing completed | ${col(jobs, (x) => x.lag)} |`,
    );
    const bad = tables.filter((x) => x.worst > x.pageSize || x.maxLimit > Math.max(x.pageSize, 100));
    if (bad.length) outRows.push('', `**A request downloaded more than one page**: ${JSON.stringify(bad.map((x) => ({ worst: x.worst, maxLimit: x.maxLimit, pageSize: x.pageSize })))}`);
    if (jobs.some((x) => !x.supported)) outRows.push('', 'The longtask PerformanceObserver is not supported here: long tasks not measured.');
    process.stdout.write(outRows.join('\n') + '\n');
    ok = true;
  } finally {
    await closeAll();
    stack.cleanup(keep || !ok);
  }
  return ok ? 0 : 1;
}
