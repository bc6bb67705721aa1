// A small test runner for the end-to-end tests: tests run one after the other against one stack
// and one browser page; each test is a list of named steps, and a failure says which test and
// which step failed, with why, and saves a screenshot of the page (and its HTML) into the stack's
// temporary directory (kept after a failure). TAP-like lines on stdout and, last, the plain
// closing line "N passed, N failed" (", N skipped").
import fs from 'node:fs';
import path from 'node:path';
import { log } from './stack.mjs';

export class StepError extends Error {}

export class Runner {
  constructor({ stack, context, page }) {
    this.stack = stack;
    this.context = context;
    this.page = page;
    this.results = [];
    this.pageErrors = [];
    this.consoleErrors = [];
    page.on('pageerror', (e) => this.pageErrors.push(`${e.name}: ${e.message}`));
    this.badResponses = [];
    page.on('response', (r) => {
      if (r.status() >= 400) this.badResponses.push(`${r.request().method()} ${new URL(r.url()).pathname}${new URL(r.url()).search} ${r.status()}`);
    });
    page.on('console', (m) => {
      if (m.type() === 'error') this.consoleErrors.push(m.text());
    });
  }

  async run(tests, only) {
    let n = 0;
    for (const t of tests) {
      n++;
      if (only && !only.some((o) => t.name.startsWith(o))) {
        this.results.push({ name: t.name, skipped: true });
        process.stdout.write(`ok ${n} - ${t.name} # SKIP not selected\n`);
        continue;
      }
      const ctx = {
        stack: this.stack,
        page: this.page,
        context: this.context,
        runner: this,
        current: '(setup)',
        log: (...a) => log(`  ${t.name} › ${a.join(' ')}`),
        async step(name, fn) {
          ctx.current = name;
          const t0 = Date.now();
          log(`  ${t.name} › ${name}`);
          const v = await fn();
          log(`  ${t.name} › ${name}: ok (${Date.now() - t0} ms)`);
          return v;
        },
      };
      const t0 = Date.now();
      try {
        await t.fn(ctx);
        const ms = Date.now() - t0;
        this.results.push({ name: t.name, ok: true, ms });
        process.stdout.write(`ok ${n} - ${t.name} (${(ms / 1000).toFixed(1)} s)\n`);
      } catch (e) {
        const ms = Date.now() - t0;
        const shot = await this.evidence(n, t.name);
        this.results.push({ name: t.name, ok: false, ms, step: ctx.current, error: e });
        process.stdout.write(`not ok ${n} - ${t.name} (${(ms / 1000).toFixed(1)} s)\n`);
        const msg = String(e && e.stack ? e.stack : e).split('\n').slice(0, 12).join('\n');
        process.stdout.write(`  # failed at step: ${ctx.current}\n`);
        process.stdout.write(msg.replace(/^/gm, '  # ') + '\n');
        if (shot) process.stdout.write(`  # screenshot: ${shot}\n`);
        if (this.pageErrors.length) process.stdout.write(`  # page errors: ${this.pageErrors.slice(-5).join(' | ')}\n`);
        if (this.badResponses.length) process.stdout.write(`  # answers >= 400: ${this.badResponses.slice(-6).join(' | ')}\n`);
        if (this.consoleErrors.length) process.stdout.write(`  # console errors: ${this.consoleErrors.slice(-5).join(' | ')}\n`);
      }
    }
    return this.summary();
  }

  async evidence(n, name) {
    const base = path.join(this.stack.dir, `fail-${n}-${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 40)}`);
    try {
      await this.page.screenshot({ path: `${base}.png`, fullPage: true, timeout: 10000 });
      fs.writeFileSync(`${base}.html`, await this.page.content());
      return `${base}.png`;
    } catch (e) {
      log(`no screenshot: ${e.message}`);
      return null;
    }
  }

  summary() {
    const passed = this.results.filter((r) => r.ok).length;
    const failed = this.results.filter((r) => r.ok === false).length;
    const skipped = this.results.filter((r) => r.skipped).length;
    return { passed, failed, skipped, results: this.results };
  }
}

// Assertions that say what was expected and what was seen.
export function check(cond, msg) {
  if (!cond) throw new StepError(typeof msg === 'function' ? msg() : msg);
}
export function checkEq(actual, expected, what) {
  const a = JSON.stringify(actual), b = JSON.stringify(expected);
  if (a !== b) throw new StepError(`${what}: expected ${b.slice(0, 800)}, got ${a.slice(0, 800)}`);
}

// Polls fn until it returns a truthy value; on timeout fails with describe()'s account of the
// last state seen.
export async function eventually(what, fn, { timeoutMs = 15000, intervalMs = 100, describe } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last, err;
  for (;;) {
    try {
      last = await fn();
      err = null;
      if (last) return last;
    } catch (e) {
      err = e;
    }
    if (Date.now() > deadline) {
      let d = '';
      try {
        d = describe ? await describe() : '';
      } catch (e) {
        d = `(${e.message})`;
      }
      throw new StepError(`${what}: not within ${timeoutMs} ms${err ? `: ${err.message}` : ''}${d ? `\n${d}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
