// The real stack the dashboard's end-to-end tests, screenshots and measurements run against, all on
// 127.0.0.1 and free ports, in one temporary directory: a private redis-server, prospect-gateway
// serving the built dashboard (DASHBOARD_DIR), prospect-llm-worker (LLM_PROVIDER=template),
// prospect-mcp-worker (no MCP server: enrichment skipped with its reason), prospect-form-worker
// (or prospect-test-worker as the form service, for the 10,000-target measurement) and the form
// worker's fixture websites (tests/form-sites/server.mjs), which the gateway and the form worker may
// reach (ALLOWED_PRIVATE_TARGETS: exactly their ports).
//
// Every process is started by this module and stopped by its PID (SIGTERM, SIGKILL after a grace
// period), in reverse order, by stop(); an exit of the node process (a failure, a signal) kills
// what is still running (stopAllSync).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const log = (...a) => process.stderr.write(`[e2e ${new Date().toISOString().slice(11, 19)}] ${a.join(' ')}\n`);

// Every process started, for the exit handler: {pid, name}.
const started = new Set();

export function stopAllSync() {
  for (const p of [...started].reverse()) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
    started.delete(p);
  }
}
process.on('exit', stopAllSync);

// A port nothing listens on now (the kernel's pick; the small race with another process binding
// it in between is taken).
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function portsFree(from, to) {
  for (let p = from; p <= to; p++) {
    const ok = await new Promise((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(false));
      s.listen(p, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (!ok) return false;
  }
  return true;
}

// One child process, its output in <dir>/<name>.log.
class Proc {
  constructor(name, cmd, args, env, dir) {
    this.name = name;
    this.cmd = cmd;
    this.args = args;
    this.env = env;
    this.logPath = path.join(dir, `${name}.log`);
    this.exited = null;
  }
  start() {
    const fd = fs.openSync(this.logPath, 'a');
    this.child = spawn(this.cmd, this.args, { env: this.env, stdio: ['ignore', fd, fd] });
    fs.closeSync(fd);
    this.pid = this.child.pid;
    this.exited = null;
    const entry = { pid: this.pid, name: this.name };
    started.add(entry);
    this.exitPromise = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        started.delete(entry);
        this.exited = { code, signal };
        resolve(this.exited);
      });
    });
    this.child.on('error', (e) => {
      started.delete(entry);
      this.exited = { code: 127, signal: null, error: e.message };
    });
    return this;
  }
  alive() {
    return this.child && !this.exited;
  }
  tail(n = 30) {
    try {
      return fs.readFileSync(this.logPath, 'utf8').split('\n').slice(-n).join('\n');
    } catch {
      return '';
    }
  }
  describeExit() {
    const e = this.exited;
    if (!e) return 'running';
    return e.error ? `could not start: ${e.error}` : e.signal ? `killed by ${e.signal}` : `exit code ${e.code}`;
  }
  // SIGTERM, then SIGKILL after graceMs.
  async stop(graceMs = 8000) {
    if (!this.alive()) return;
    try {
      process.kill(this.pid, 'SIGTERM');
    } catch {
      return;
    }
    const t = setTimeout(() => {
      if (this.alive()) {
        log(`${this.name} (pid ${this.pid}) did not stop within ${graceMs} ms: SIGKILL`);
        try {
          process.kill(this.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }, graceMs);
    await this.exitPromise;
    clearTimeout(t);
  }
}

async function waitFor(what, fn, { timeoutMs = 30000, intervalMs = 100, proc = null } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (proc && !proc.alive())
      throw new Error(`${what}: ${proc.name} exited (${proc.describeExit()}); its log ${proc.logPath}:\n${proc.tail()}`);
    if (Date.now() > deadline)
      throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (${last.message})` : ''}` +
        (proc ? `; ${proc.name}'s log ${proc.logPath}:\n${proc.tail()}` : ''));
    await sleep(intervalMs);
  }
}

// A website in this process whose home page answers 503 while `failing` (robots.txt allows all):
// the form worker retries it (a transient fault) until the task is out of attempts and becomes a
// dead letter. Once `failing` is false its pages answer 200 without a form (the task is skipped).
function startFlakySite() {
  const site = { failing: true, hits: 0 };
  const server = http.createServer((req, res) => {
    site.hits++;
    if (req.url === '/robots.txt') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('User-agent: *\nAllow: /\n');
    } else if (site.failing) {
      res.writeHead(503, { 'content-type': 'text/html' });
      res.end('<!DOCTYPE html><title>Down</title><p>Down for maintenance.</p>');
    } else {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!DOCTYPE html><html><head><title>Back</title></head><body><h1>We are back</h1><p>No form here.</p></body></html>');
    }
  });
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      site.port = server.address().port;
      site.url = `http://127.0.0.1:${site.port}/`;
      site.close = () => new Promise((r) => {
        server.closeAllConnections?.();
        server.close(() => r());
      });
      resolve(site);
    });
  });
}

// The fixture websites of tests/form-sites (server.mjs), each its own origin on 127.0.0.1.
export const SITES_SERVER = path.join(ROOT, 'tests/form-sites/server.mjs');

export class Stack {
  // opts: binDir, dist (the built dashboard), sites (names of tests/form-sites sites, [] for
  // none), sitesDelayMs, formWorker ('form' | 'test' | null), testWorkerDelayMs, apiKey (false:
  // no API_KEYS), gatewayEnv, keepTmp
  constructor(opts = {}) {
    this.opts = opts;
    this.binDir = path.resolve(ROOT, opts.binDir || process.env.PA_BIN_DIR || 'build/bin');
    this.dist = opts.dist;
    this.apiKey = opts.apiKey === false ? null : opts.apiKey || `e2e-${randomBytes(16).toString('hex')}`;
    this.procs = [];
    this.dir = fs.mkdtempSync(path.join(process.env.TMPDIR || os.tmpdir(), 'pa-e2e-'));
  }

  bin(name) {
    const b = path.join(this.binDir, name);
    if (!fs.existsSync(b)) throw new Error(`${b} not found: build first (make build), or set PA_BIN_DIR`);
    return b;
  }

  baseEnv() {
    const env = {};
    for (const k of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'LC_ALL', 'TZ', 'ASAN_OPTIONS', 'UBSAN_OPTIONS', 'LSAN_OPTIONS', 'LD_LIBRARY_PATH'])
      if (process.env[k] !== undefined) env[k] = process.env[k];
    return env;
  }

  proc(name, cmd, args, env) {
    const p = new Proc(name, cmd, args, env, this.dir);
    this.procs.push(p);
    return p;
  }

  async start() {
    const t0 = Date.now();
    if (this.dist && !fs.existsSync(path.join(this.dist, 'index.html')))
      throw new Error(`${this.dist}/index.html not found: the dashboard is not built`);
    const gatewayBin = this.bin('prospect-gateway');
    await this.startRedis();
    if ((this.opts.sites || []).length || (this.opts.siteGroups || []).length || this.opts.flakySite) await this.startSites();
    this.port = await freePort();
    do this.dispatchPort = await freePort();
    while (this.dispatchPort === this.port);
    this.url = `http://127.0.0.1:${this.port}`;
    const env = {
      ...this.baseEnv(),
      HOST: '127.0.0.1',
      PORT: String(this.port),
      REDIS_URL: this.redisUrl,
      DISPATCH_BIND: `tcp://127.0.0.1:${this.dispatchPort}`,
      HEARTBEAT_MS: '200',
      LOG_LEVEL: 'info',
      SHUTDOWN_TIMEOUT_S: '2',
      // the run page's runs name no sender: the gateway's default (the fixture corpus's sender)
      SENDER_NAME: 'Ada Lovelace',
      SENDER_EMAIL: 'ada@analytical-engines.example',
      SENDER_COMPANY: 'Analytical Engines Ltd',
      SENDER_PHONE: '+44 20 7946 0000',
      SENDER_TITLE: 'Head of Partnerships',
      SENDER_WEBSITE: 'https://analytical-engines.example',
      ...(this.apiKey ? { API_KEYS: this.apiKey } : {}),
      ...(this.dist ? { DASHBOARD_DIR: this.dist } : {}),
      ...(this.allowList ? { ALLOWED_PRIVATE_TARGETS: this.allowList } : {}),
      ...(this.opts.gatewayEnv || {}),
    };
    this.gateway = this.proc('gateway', gatewayBin, [], env).start();
    await this.waitGateway();
    const wenv = {
      ...this.baseEnv(),
      REDIS_URL: this.redisUrl,
      GATEWAY_ENDPOINTS: `tcp://127.0.0.1:${this.dispatchPort}`,
      HEARTBEAT_MS: '200',
      RETRY_BASE_MS: '50',
      RETRY_CAP_MS: '200',
      LOG_LEVEL: 'info',
      STOP_TIMEOUT_S: '2',
    };
    const services = [];
    this.proc('llm-worker', this.bin('prospect-llm-worker'), [], { ...wenv, WORKER_ID: 'llm-e2e-1', LLM_PROVIDER: 'template' }).start();
    services.push('llm');
    if (fs.existsSync(path.join(this.binDir, 'prospect-mcp-worker')) && this.opts.mcpWorker !== false) {
      this.proc('mcp-worker', this.bin('prospect-mcp-worker'), [], {
        ...wenv,
        WORKER_ID: 'mcp-e2e-1',
        ...(this.opts.mcpServerCommand ? { MCP_SERVER_COMMAND: this.opts.mcpServerCommand } : {}),
      }).start();
      services.push('mcp');
    }
    const fw = this.opts.formWorker === undefined ? 'form' : this.opts.formWorker;
    if (fw === 'form') {
      this.proc('form-worker', this.bin('prospect-form-worker'), [], {
        ...wenv,
        WORKER_ID: 'form-e2e-1',
        FORM_RATE_MS: '50',
        FORM_USER_AGENT: 'ProspectAI/1.0-test (+https://prospect-ai.example/bot)',
        ...(this.allowList ? { ALLOWED_PRIVATE_TARGETS: this.allowList } : {}),
      }).start();
      services.push('form');
    } else if (fw === 'test') {
      this.proc('form-test-worker', this.bin('prospect-test-worker'), [], {
        ...wenv,
        WORKER_ID: 'form-test-e2e-1',
        TEST_WORKER_SERVICE: 'form',
        TEST_WORKER_DELAY_MS: String(this.opts.testWorkerDelayMs ?? 0),
        WORKER_CAPACITY: String(this.opts.testWorkerCapacity ?? 64),
      }).start();
      services.push('form');
    }
    await waitFor('the workers connect (GET /api/workers)', async () => {
      for (const p of this.procs) if (!p.alive()) throw new Error(`${p.name} exited (${p.describeExit()}):\n${p.tail()}`);
      const r = await this.api('GET', '/api/workers');
      if (r.status !== 200) return false;
      const sv = r.json.services || {};
      return services.every((s) => (sv[s]?.workers || 0) > 0);
    }, { timeoutMs: 20000 });
    log(`stack up in ${Date.now() - t0} ms: gateway ${this.url} (pid ${this.gateway.pid}), redis :${this.redisPort}, ` +
      `workers ${services.join(', ')}${this.sites ? `, ${Object.keys(this.sites).length} fixture sites` : ''}; logs in ${this.dir}`);
    return this;
  }

  async startRedis() {
    this.redisPort = await freePort();
    const conf = path.join(this.dir, 'redis.conf');
    fs.writeFileSync(conf, [
      `port ${this.redisPort}`, 'bind 127.0.0.1', 'protected-mode yes', 'daemonize no', `dir "${this.dir}"`,
      'save ""', 'appendonly no', `logfile "${path.join(this.dir, 'redis-server.log')}"`,
    ].join('\n') + '\n');
    const r = this.proc('redis', 'redis-server', [conf], this.baseEnv()).start();
    this.redisUrl = `redis://127.0.0.1:${this.redisPort}/0`;
    await waitFor('redis-server answers PING', () => new Promise((resolve) => {
      const s = net.connect(this.redisPort, '127.0.0.1');
      s.on('error', () => resolve(false));
      s.on('connect', () => s.write('PING\r\n'));
      s.on('data', (d) => {
        s.destroy();
        resolve(d.toString().startsWith('+PONG'));
      });
    }), { proc: r, timeoutMs: 10000 });
  }

  // One fixture server per group of sites ({sites, delayMs}: every answer of its sites delayed),
  // each on its own range of ports; ALLOWED_PRIVATE_TARGETS lists every range.
  async startSites() {
    const groups = this.opts.siteGroups || ((this.opts.sites || []).length ? [{ sites: this.opts.sites, delayMs: this.opts.sitesDelayMs }] : []);
    this.sites = {};
    this.sitesAdmin = [];
    const ranges = [];
    if (this.opts.flakySite) {
      this.flaky = await startFlakySite();
      this.sites.flaky = this.flaky.port;
      ranges.push(`127.0.0.1:${this.flaky.port}`);
    }
    for (const [gi, g] of groups.entries()) {
      const r = await this.startSiteServer(g.sites, g.delayMs, gi);
      Object.assign(this.sites, r.sites);
      this.sitesAdmin.push(r.admin);
      ranges.push(`127.0.0.1:${r.base}-${r.base + g.sites.length - 1}`);
    }
    if (this.opts.extraAllowed) ranges.push(this.opts.extraAllowed);
    this.allowList = ranges.join(',');
  }

  async startSiteServer(names, delayMs, gi) {
    for (let attempt = 0; attempt < 8; attempt++) {
      // below Linux's ephemeral range, as tests/form-sites/sites_fixture.h draws them
      const base = 20001 + Math.floor(Math.random() * (32000 - 20001 - names.length - 1));
      if (!(await portsFree(base - 1, base + names.length - 1))) continue;
      const args = [SITES_SERVER, '--host', '127.0.0.1', '--base-port', String(base), '--sites', names.join(',')];
      if (delayMs) args.push('--delay-ms', String(delayMs));
      const p = this.proc(`form-sites-${gi}-${attempt}`, process.execPath, args, this.baseEnv()).start();
      let info = null;
      const deadline = Date.now() + 20000;
      while (!info) {
        const line = fs.readFileSync(p.logPath, 'utf8').split('\n').find((l) => l.startsWith('{"admin"'));
        if (line) info = JSON.parse(line);
        else if (!p.alive()) break;
        else if (Date.now() > deadline) throw new Error(`the fixture sites did not start:\n${p.tail()}`);
        else await sleep(50);
      }
      if (!info) {
        await p.exitPromise;
        if (p.exited.code === 3) continue; // a port taken meanwhile
        throw new Error(`the fixture sites exited (${p.describeExit()}):\n${p.tail()}`);
      }
      return { sites: info.sites, admin: info.admin, base };
    }
    throw new Error(`no free range of ${names.length + 1} ports for the fixture sites`);
  }

  siteUrl(name, p = '/') {
    const port = this.sites?.[name];
    if (!port) throw new Error(`the fixture server does not serve ${name}`);
    return `http://127.0.0.1:${port}${p}`;
  }

  async waitGateway() {
    await waitFor('GET /api/health answers 200', async () => (await this.api('GET', '/api/health')).status === 200,
      { proc: this.gateway, timeoutMs: 30000 });
  }

  // Stops the gateway only (the API-unreachable test), and starts it again on the same port.
  async stopGateway() {
    await this.gateway.stop();
  }
  async restartGateway() {
    this.gateway.start();
    await this.waitGateway();
  }

  // A request to the gateway with the API key: {status, headers, text, json}.
  async api(method, p, body, headers = {}) {
    const h = { ...headers };
    if (this.apiKey) h.authorization = `Bearer ${this.apiKey}`;
    let b = body;
    if (body !== undefined && typeof body !== 'string' && !Buffer.isBuffer(body)) {
      b = JSON.stringify(body);
      h['content-type'] ||= 'application/json';
    }
    const r = await fetch(`${this.url}${p}`, { method, headers: h, body: b, signal: AbortSignal.timeout(120000) });
    const text = await r.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: r.status, headers: r.headers, text, json };
  }

  // Demo prospects from scripts/gen-data (deterministic), imported through the API.
  async loadProspects(n) {
    const out = path.join(this.dir, 'data');
    fs.mkdirSync(out, { recursive: true });
    const g = spawnSync(path.join(ROOT, 'scripts/gen-data'), ['--prospects', String(n), '--out', out], { encoding: 'utf8' });
    if (g.status !== 0) throw new Error(`scripts/gen-data failed: ${g.stderr}`);
    const body = fs.readFileSync(path.join(out, `prospects-${n}.jsonl`));
    const r = await this.api('POST', '/api/prospects/import', body, { 'content-type': 'application/x-ndjson' });
    if (r.status !== 200) throw new Error(`POST /api/prospects/import: ${r.status} ${r.text.slice(0, 500)}`);
    log(`prospects: ${r.json.imported} imported, ${r.json.updated} updated, ${r.json.rejected_total} rejected`);
    const campaigns = JSON.parse(fs.readFileSync(path.join(out, 'campaigns.json'), 'utf8'));
    for (const c of campaigns) {
      const cr = await this.api('POST', '/api/campaigns', c);
      if (cr.status !== 201 && cr.status !== 409) throw new Error(`POST /api/campaigns: ${cr.status} ${cr.text}`);
    }
    return r.json;
  }

  async stop() {
    for (const p of [...this.procs].reverse()) await p.stop();
    if (this.flaky) await this.flaky.close();
  }

  // Removes the temporary directory unless asked to keep it (or a test failed).
  cleanup(keep) {
    if (keep || this.opts.keepTmp) {
      log(`kept ${this.dir}`);
      return;
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
