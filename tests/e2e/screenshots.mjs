// tests/e2e/run --screenshots: one PNG per page of the dashboard into docs/screenshots/ (1280x800,
// the light theme; the Prospects page once more in the dark theme), on the same real stack as the
// tests with some history made first: demo prospects and campaigns, a finished dry run, two
// CAPTCHA hand-offs, a failed task and a dead letter (a site answering 503 until out of attempts). Each PNG is checked to stay under 300 KB
// (pngquant, when installed, shrinks one that does not).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { settle, tid, trackRequests } from './lib/browser.mjs';
import { ROOT, Stack, log } from './lib/stack.mjs';

const MAX_BYTES = 300 * 1024;
const DRY = ['cf7-studio', 'django-robotics', 'rails-bakery', 'laravel-saas', 'webflow-studio', 'skipped-js:ninja-forms-embed'];
const SITES = ['cf7-studio', 'django-robotics', 'rails-bakery', 'laravel-saas', 'webflow-studio', 'ninja-forms-embed', 'recaptcha-v2', 'hcaptcha', 'unfillable-vat'];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitJob(stack, id) {
  for (let i = 0; i < 600; i++) {
    const j = (await stack.api('GET', `/api/jobs/${id}`)).json;
    if (j.status === 'completed') return j;
    await sleep(100);
  }
  throw new Error(`job ${id} did not complete`);
}

async function run(stack, targets, options) {
  const r = await stack.api('POST', '/api/automation/contact-forms/run', {
    message_template: 'Hello {{company|there}}, may we show you how our engines cut your freight costs?',
    targets,
    options: { enrich: false, ...options },
  });
  if (r.status !== 202) throw new Error(`run: ${r.status} ${r.text}`);
  return r.json.job_id;
}

export async function main({ dist, keep, browser, track, closeAll }) {
  const out = path.join(ROOT, 'docs/screenshots');
  fs.mkdirSync(out, { recursive: true });
  // The Enrichment page with an MCP server: the SDK test server of tests/mcp-server over stdio
  // (its packages installed when missing), else without one.
  const mcpStart = path.join(ROOT, 'tests/mcp-server/start');
  const inst = spawnSync(mcpStart, ['--install'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const mcpServerCommand = inst.status === 0 ? `${mcpStart} --stdio` : undefined;
  if (!mcpServerCommand) log('tests/mcp-server could not be installed: the Enrichment page without an MCP server');
  const stack = track(new Stack({ dist, sites: SITES, flakySite: true, mcpServerCommand, keepTmp: keep }));
  let ok = false;
  try {
    await stack.start();
    await stack.loadProspects(2000);
    // history: a dry run (one site skipped: JavaScript only), two hand-offs, a failed task
    const dry = await run(stack, DRY.map((s) => stack.siteUrl(s.replace(/^.*:/, ''))), { dry_run: true });
    await waitJob(stack, dry);
    await waitJob(stack, await run(stack, [stack.siteUrl('recaptcha-v2'), stack.siteUrl('hcaptcha')], {}));
    await waitJob(stack, await run(stack, [stack.siteUrl('unfillable-vat'), stack.flaky.url], {}));

    const b = await browser();
    const context = await b.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light', deviceScaleFactor: 1 });
    await context.addInitScript((key) => localStorage.setItem('pa.apiKey', key), stack.apiKey);
    const page = await context.newPage();
    trackRequests(page);
    page.setDefaultTimeout(15000);
    const shots = [];
    const shoot = async (name) => {
      await settle(page);
      await sleep(300); // transitions
      const file = path.join(out, `${name}.png`);
      await page.screenshot({ path: file, fullPage: false });
      let size = fs.statSync(file).size;
      if (size > MAX_BYTES) {
        const q = spawnSync('pngquant', ['--force', '--skip-if-larger', '--quality=70-95', '--output', file, file]);
        if (q.error) log(`${name}.png is ${size} bytes and pngquant is not installed (apt-get install pngquant)`);
        size = fs.statSync(file).size;
      }
      shots.push({ name, size });
      log(`${name}.png: ${(size / 1024).toFixed(0)} KB`);
    };
    const go = async (p, ready) => {
      await page.goto(stack.url + p);
      if (ready) await tid(page, ready).first().waitFor();
    };

    await go('/prospects', 'prospects-row');
    await shoot('prospects');
    await go('/campaigns');
    await shoot('campaigns');
    await go('/run', 'run-targets');
    await tid(page, 'run-targets').fill(DRY.slice(0, 3).map((s) => `https://${s.replace(/^.*:/, '')}.example/`).join('\n'));
    await tid(page, 'run-template').fill('Hello {{company|there}}, may we show you how our engines cut your freight costs?');
    await shoot('run');
    await go('/jobs');
    await shoot('jobs');
    await go(`/jobs/${dry}`, 'job-task-row');
    await shoot('job');
    await go('/handoffs', 'handoff-row');
    await shoot('handoffs');
    await go('/workers', 'workers-table');
    await shoot('workers');
    await go('/enrichment');
    if (mcpServerCommand) {
      // a company look-up, answered by the test server's enrich_company
      const domain = page.getByPlaceholder(/acme\.example/).first();
      if (await domain.count()) {
        await domain.fill('analytical-engines.example');
        await page.getByRole('button', { name: /look up/i }).first().click();
        await page.waitForResponse((r) => r.url().includes('/api/mcp/enrich')).catch(() => {});
      }
    }
    await shoot('enrichment');
    // the dark theme, through the toggle
    await go('/prospects', 'prospects-row');
    await tid(page, 'theme-toggle').click();
    await shoot('prospects-dark');

    const big = shots.filter((s) => s.size > MAX_BYTES);
    if (big.length) throw new Error(`over ${MAX_BYTES} bytes: ${big.map((s) => `${s.name}.png ${s.size}`).join(', ')}`);
    log(`${shots.length} screenshots in ${path.relative(ROOT, out)}/`);
    ok = true;
  } finally {
    await closeAll();
    stack.cleanup(keep || !ok);
  }
  return ok ? 0 : 1;
}
