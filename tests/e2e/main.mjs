// tests/e2e/run's node half (the shell half installs what is missing and builds the dashboard):
// starts the stack, opens chromium, runs the tests (tests.mjs), the screenshots
// (screenshots.mjs) or the measurements (bench.mjs), and stops everything it started.
import { launch, trackRequests } from './lib/browser.mjs';
import { Runner } from './lib/runner.mjs';
import { Stack, log, stopAllSync } from './lib/stack.mjs';

const argv = process.argv.slice(2);
const has = (f) => argv.includes(f);
const opt = (f) => {
  const i = argv.indexOf(f);
  return i >= 0 ? argv[i + 1] : undefined;
};
const keep = has('--keep');
const dist = process.env.DASHBOARD_DIST;

// What is running now, for the signal handlers: stacks and browsers to stop.
const live = { stacks: new Set(), browsers: new Set() };
export function track(stack) {
  live.stacks.add(stack);
  return stack;
}
export async function closeAll() {
  for (const b of live.browsers) await b.close().catch(() => {});
  live.browsers.clear();
  for (const s of live.stacks) await s.stop().catch(() => {});
}
let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, async () => {
    if (stopping) return;
    stopping = true;
    log(`${sig}: stopping what was started`);
    const t = setTimeout(() => {
      stopAllSync();
      process.exit(1);
    }, 20000);
    await closeAll();
    clearTimeout(t);
    process.exit(sig === 'SIGINT' ? 130 : 143);
  });
}

export async function browser() {
  const b = await launch();
  live.browsers.add(b);
  return b;
}

async function runTests() {
  const { TESTS, STACK_OPTS, PROSPECTS } = await import('./tests.mjs');
  const t0 = Date.now();
  const stack = track(new Stack({ dist, ...STACK_OPTS }));
  let summary = { passed: 0, failed: 1, skipped: 0 };
  let b;
  try {
    await stack.start();
    await stack.loadProspects(PROSPECTS);
    b = await browser();
    const context = await b.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
    const page = await context.newPage();
    trackRequests(page);
    page.setDefaultTimeout(15000);
    const runner = new Runner({ stack, context, page });
    const only = opt('--only')?.split(',').filter(Boolean);
    summary = await runner.run(TESTS, only);
  } catch (e) {
    process.stdout.write(`not ok - the stack or the browser did not start\n  # ${String(e.stack || e).replace(/\n/g, '\n  # ')}\n`);
  } finally {
    await closeAll();
  }
  const ok = summary.failed === 0;
  stack.cleanup(keep || !ok);
  log(`run time ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  process.stdout.write(`${summary.passed} passed, ${summary.failed} failed${summary.skipped ? `, ${summary.skipped} skipped` : ''}\n`);
  return ok ? 0 : 1;
}

let rc;
try {
  if (has('--screenshots')) rc = await (await import('./screenshots.mjs')).main({ dist, keep, argv, browser, track, closeAll });
  else if (has('--bench')) rc = await (await import('./bench.mjs')).main({ dist, keep, argv, browser, track, closeAll });
  else rc = await runTests();
} catch (e) {
  log(`error: ${e.stack || e}`);
  await closeAll();
  rc = 1;
}
process.exit(rc);
