// The corpus tested on its own, before any worker: starts server.mjs, and for every site of
// sites.json fetches its pages (robots.txt, the start page, the contact page through its
// redirects), checks what the page must show (the embed, the CAPTCHA, the opt-out notice, the
// contacts), posts a correct submission made from the manifest (and a wrong one: a honeypot filled,
// the CSRF cookie or a token missing, a required field empty) and checks the server's own
// judgement in /admin/posts; then --bench 500 with --delay-ms 100. Last line: "N passed, N failed".
//
//   node selftest.mjs [--only name,name] [--no-bench]
import { spawn } from 'node:child_process';
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SITES, manifest } from './sites.mjs';
import { decodeAs, matchFields, resolveSpec } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const onlyArg = argv.includes('--only') ? argv[argv.indexOf('--only') + 1].split(',') : null;
let passed = 0, failed = 0;
const ok = (cond, what) => {
  if (cond) passed++;
  else {
    failed++;
    console.log(`FAIL ${what}`);
  }
  return cond;
};

// ---- the server -----------------------------------------------------------------------------------
async function start(args) {
  for (let attempt = 0; attempt < 12; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 9000);
    const child = spawn(process.execPath, [path.join(here, 'server.mjs'), '--host', '127.0.0.1', '--base-port', String(base), ...args],
                        { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise((resolve) => {
      let buf = '';
      child.stdout.on('data', (c) => {
        buf += c;
        if (buf.includes('\n')) resolve(buf.split('\n')[0]);
      });
      child.on('exit', () => resolve(null));
    });
    if (line) return { child, info: JSON.parse(line) };
    if (child.exitCode !== 3) throw new Error(`the server exited with ${child.exitCode}`);
  }
  throw new Error('no free range of ports');
}
async function stop(child) {
  const code = await new Promise((resolve) => {
    child.on('exit', (c, sig) => resolve(sig ? sig : c));
    child.kill('SIGTERM');
  });
  return code;
}

// ---- HTTP with a cookie jar -------------------------------------------------------------------------
function request(port, method, p, { headers = {}, body = null } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: p, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}
class Browser {
  constructor(port) {
    this.port = port;
    this.jar = {};
  }
  cookieHeader() {
    return Object.entries(this.jar).map(([k, v]) => `${k}=${v}`).join('; ');
  }
  take(res) {
    for (const c of res.headers['set-cookie'] || []) {
      const kv = c.split(';')[0];
      const eq = kv.indexOf('=');
      this.jar[kv.slice(0, eq).trim()] = kv.slice(eq + 1).trim();
    }
  }
  // follows redirects (a 303/302/301 after a POST becomes a GET); returns the last answer + its path
  async go(method, p, { body = null, type = null, referer = null, cookies = true } = {}) {
    const chain = [];
    for (let hop = 0; hop < 6; hop++) {
      const headers = { 'user-agent': 'ProspectAI-fixture-selftest/1.0 (+https://example.invalid/bot)',
                        'accept-language': 'en-GB,en;q=0.8', accept: 'text/html' };
      if (cookies && Object.keys(this.jar).length) headers.cookie = this.cookieHeader();
      if (referer) headers.referer = referer;
      if (body) {
        headers['content-type'] = type;
        headers['content-length'] = body.length;
      }
      const res = await request(this.port, method, p, { headers, body });
      if (cookies) this.take(res);
      chain.push(res.status);
      if (res.status >= 300 && res.status < 400 && res.headers.location) {
        p = new URL(res.headers.location, `http://127.0.0.1:${this.port}${p}`).pathname + new URL(res.headers.location, 'http://x').search;
        if (res.status !== 307 && res.status !== 308) {
          method = 'GET';
          body = null;
        }
        continue;
      }
      return { ...res, path: p, chain, text: decode(res) };
    }
    throw new Error('too many redirects');
  }
}
function decode(res) {
  const ct = res.headers['content-type'] || '';
  let cs = /charset=([\w-]+)/i.exec(ct)?.[1];
  if (!cs) cs = /<meta[^>]+charset=["']?([\w-]+)/i.exec(res.body.slice(0, 1024).toString('latin1'))?.[1];
  return decodeAs(res.body, cs || 'utf-8');
}

// ---- the page's inputs -----------------------------------------------------------------------------
const unent = (s) => s.replace(/&#x([0-9a-f]+);/gi, (_, h) => String.fromCodePoint(parseInt(h, 16)))
  .replace(/&#(\d+);/g, (_, d) => String.fromCodePoint(Number(d)))
  .replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
function inputs(html) {
  const out = new Map();
  for (const m of html.matchAll(/<input\b([^>]*)>/gi)) {
    const attrs = {};
    for (const a of m[1].matchAll(/([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/g))
      attrs[a[1].toLowerCase()] = unent(a[2] ?? a[3] ?? a[4] ?? '');
    if (attrs.name && !out.has(attrs.name)) out.set(attrs.name, attrs);
  }
  return out;
}

const MESSAGE = 'Hello from the corpus self-check.\nWe would like to talk about analytical engines — and café tables.';

function encodeBody(pairs, enctype, files) {
  if (enctype === 'multipart/form-data') {
    const b = '----selftest' + Math.random().toString(16).slice(2);
    const parts = pairs.map(([k, v]) => files.has(k)
      ? `--${b}\r\nContent-Disposition: form-data; name="${k}"; filename=""\r\nContent-Type: application/octet-stream\r\n\r\n${v}\r\n`
      : `--${b}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`);
    return { body: Buffer.from(parts.join('') + `--${b}--\r\n`, 'utf8'), type: `multipart/form-data; boundary=${b}` };
  }
  const s = pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`.replace(/%20/g, '+')).join('&');
  return { body: Buffer.from(s), type: 'application/x-www-form-urlencoded' };
}

async function admin(port, what, site) {
  const r = await request(port, what === 'reset' ? 'POST' : 'GET', what === 'reset' ? '/admin/reset' : `/admin/${what}${site ? `?site=${site}` : ''}`);
  return JSON.parse(r.body.toString());
}

const EMBED = { hubspot: /hsforms\.net|hbspt\.forms\.create/, typeform: /embed\.typeform\.com|data-tf-/, wix: /Wix\.com Website Builder|parastorage/, ninja_forms: /nf-form-cont|ninja-forms/ };
const CAPTCHA = { recaptcha_v2: /class="g-recaptcha"[^>]*data-sitekey/, recaptcha_v3: /recaptcha\/api\.js\?render=/, hcaptcha: /class="h-captcha"/,
                  turnstile: /class="cf-turnstile"/, friendly_captcha: /class="frc-captcha"/, math: /What is 7 \+ 5\?/, image: /<img id="captcha"/ };

// ---- one site ----------------------------------------------------------------------------------------
async function checkSite(m, def, port, adminPort) {
  const ex = m.expect;
  const b = new Browser(port);
  const robots = await b.go('GET', '/robots.txt');
  ok(robots.status === 200 || robots.status === 404 || (m.name === 'robots-5xx' && robots.status === 503), `${m.name}: robots.txt answers ${robots.status}`);
  if (ex.reason === 'robots' && m.name !== 'robots-5xx') ok(robots.status === 200 && robots.text.includes(`Disallow: ${m.contact}`), `${m.name}: robots.txt disallows ${m.contact}`);
  if (m.name === 'robots-agent-group') ok(/User-agent: \*\nAllow: \/\n/.test(robots.text) && /User-agent: ProspectAI/.test(robots.text), `${m.name}: the * group allows, the ProspectAI group disallows`);
  if (ex.crawl_delay_ms) ok(/Crawl-delay: 1/.test(robots.text), `${m.name}: Crawl-delay`);
  const home = await b.go('GET', m.path);
  ok(home.status === 200, `${m.name}: ${m.path} answers ${home.status}`);
  if (m.contact && m.name !== 'common-path' && m.name !== 'redirect-chain')
    ok(home.text.includes(`href="${m.contact}"`) || home.text.includes(`href="${m.contact.replace(/^\//, '')}"`), `${m.name}: the start page links to ${m.contact}`);
  if (m.name === 'common-path') ok(!/href="[^"]*contact/i.test(home.text), `${m.name}: no contact link`);
  // the way in: the nav link for redirect-chain, the contact path otherwise
  const entry = m.name === 'redirect-chain' ? '/contact-us' : m.contact;
  const cp = await b.go('GET', entry);
  ok(cp.status === 200 && cp.path === m.contact, `${m.name}: ${entry} leads to ${m.contact} (${cp.status} at ${cp.path}, chain ${cp.chain})`);
  if (m.name === 'redirect-chain') ok(cp.chain.join(',') === '301,301,200', `${m.name}: two 301s (${cp.chain})`);
  for (const [what, pg] of [['start page', home], ['contact page', cp]]) {
    const ids = [...pg.text.replace(/<script[\s\S]*?<\/script>/gi, '').matchAll(/\sid=["']([^"']+)["']/g)].map((x) => x[1]);
    const dup = ids.filter((x, i) => ids.indexOf(x) !== i);
    ok(dup.length === 0, `${m.name}: the ${what}'s ids are unique (${dup})`);
    const fors = [...pg.text.matchAll(/<label[^>]*\sfor=["']([^"']+)["']/g)].map((x) => x[1]);
    ok(fors.every((f) => ids.includes(f)), `${m.name}: every label's for= names an element of the ${what} (${fors.filter((f) => !ids.includes(f))})`);
  }
  const charset = (/charset=([\w-]+)/i.exec(cp.headers['content-type'] || '') || [])[1] || null;
  if (m.charset !== 'utf-8' && m.name !== 'win1252-quotes') ok(charset && charset.toLowerCase() === m.charset.toLowerCase(), `${m.name}: served as ${m.charset} (${charset})`);
  if (m.name === 'win1252-quotes') ok(!charset && cp.body.includes(Buffer.from([0x92])) && cp.text.includes('What’s on your mind?'), `${m.name}: Windows-1252 bytes, charset only in the meta`);
  if (m.name === 'shiftjis-ja') ok(cp.text.includes('お問い合わせ内容') && !cp.body.includes(Buffer.from('お問い合わせ', 'utf8')), `${m.name}: Shift_JIS bytes`);
  if (m.name === 'german-latin1') ok(cp.text.includes('Datenschutzerklärung') && cp.body.includes(Buffer.from([0xe4])), `${m.name}: ISO-8859-1 bytes`);
  if (ex.embed) ok(EMBED[ex.embed].test(cp.text) && !/<form\b/i.test(cp.text.replace(/<script[\s\S]*?<\/script>/gi, '')), `${m.name}: the ${ex.embed} embed and no form`);
  if (ex.captcha) ok(CAPTCHA[ex.captcha].test(cp.text), `${m.name}: the ${ex.captcha} widget`);
  if (ex.opt_out) ok(cp.text.toLowerCase().includes(ex.opt_out.toLowerCase()), `${m.name}: the opt-out notice "${ex.opt_out}"`);
  if (ex.reason === 'no_form') ok(!/<form\b/i.test(cp.text) && ex.contacts.emails.every((e) => cp.text.includes(e)) && ex.contacts.phones.every((p) => cp.text.includes(p)), `${m.name}: no form, the contacts shown`);
  if (ex.unfillable) ok(new RegExp(`name="${ex.unfillable}"[^>]*required`).test(cp.text), `${m.name}: ${ex.unfillable} is required`);
  const fields = Object.keys(ex.fields);
  if (!fields.length) return;

  // every expected field is in one form (but CAPTCHA fields a script makes), with its literal value
  const formOf = (html) => {
    let best = '', score = -1;
    for (const f of html.matchAll(/<form\b[\s\S]*?<\/form>/gi)) {
      const n = fields.filter((k) => f[0].includes(`name="${k}"`) || f[0].includes(`name='${k}'`)).length;
      if (n > score) [best, score] = [f[0], n];
    }
    return best;
  };
  const ins = inputs(formOf(cp.text));
  for (const [name, spec] of Object.entries(ex.fields)) {
    const fh = formOf(cp.text);
    const onPage = ins.has(name) || fh.includes(`name="${name}"`) || fh.includes(`name='${name}'`);
    if (!ok(onPage || spec === '$captcha', `${m.name}: ${name} is on the page`)) continue;
    const i = ins.get(name);
    if (i && i.type === 'hidden' && !spec.startsWith('$')) ok(i.value === spec, `${m.name}: hidden ${name} = ${JSON.stringify(spec)} (page: ${JSON.stringify(i.value)})`);
  }
  const files = new Set([...ins.values()].filter((i) => i.type === 'file').map((i) => i.name));
  const tokens = Object.fromEntries([...ins].map(([k, v]) => [k, v.value ?? '']));
  const correct = Object.entries(ex.fields).map(([k, s]) => [k, resolveSpec(k, s, MESSAGE, tokens)]).filter(([, v]) => v !== undefined);
  const form = ex.form || { method: 'POST', action: m.contact, enctype: 'application/x-www-form-urlencoded' };
  const submit = async (pairs, { cookies = true } = {}) => {
    const before = (await admin(adminPort, 'posts', m.name)).length;
    let r;
    if (form.method === 'GET') {
      const q = encodeBody(pairs, 'application/x-www-form-urlencoded', files).body.toString();
      r = await b.go('GET', `${form.action}?${q}`, { referer: `http://127.0.0.1:${port}${m.contact}`, cookies });
    } else {
      const { body, type } = encodeBody(pairs, form.enctype, files);
      r = await b.go('POST', form.action, { body, type, referer: `http://127.0.0.1:${port}${m.contact}`, cookies });
    }
    const posts = await admin(adminPort, 'posts', m.name);
    ok(posts.length === before + 1, `${m.name}: the post is recorded`);
    return { r, rec: posts[posts.length - 1] || {} };
  };

  if (ex.outcome === 'captcha_required') {
    const { r, rec } = await submit(correct);
    ok(rec.accepted === false && rec.reason === 'captcha', `${m.name}: a post without the CAPTCHA is refused (${rec.reason})`);
    ok(!r.text.includes('Thank you'), `${m.name}: no thanks without the CAPTCHA`);
    return;
  }
  // a wrong one first (the honeypot filled; then CSRF/token; then a required field empty)
  const wrongs = [];
  for (const h of def.form.honeypots || []) wrongs.push(['honeypot', correct.map(([k, v]) => [k, k === h ? 'http://spam.example' : v]), {}]);
  if (def.form.csrf) wrongs.push(['csrf', correct, { cookies: false }]);
  for (const t of def.form.tokens || []) wrongs.push(['token', correct.map(([k, v]) => [k, k === t ? 'forged' : v]), {}]);
  if ((def.form.required || []).length && m.name !== 'always-invalid') wrongs.push(['required', correct.map(([k, v]) => [k, k === def.form.required[0] ? '' : v]), {}]);
  for (const [reason, pairs, o] of wrongs) {
    const saved = { ...b.jar };
    const { r, rec } = await submit(pairs, o);
    b.jar = saved;
    ok(rec.accepted === false && rec.reason === reason, `${m.name}: a wrong post (${reason}) is refused: ${rec.reason}`);
    const shown = m.name === 'webflow-studio' ? /w-form-done"[^>]*display:block/.test(r.text) : r.text.includes(ex.confirm);
    ok(!ex.confirm || !shown, `${m.name}: no confirmation after the wrong post (${reason})`);
    if (reason === 'csrf') ok([403, 419, 422].includes(r.status), `${m.name}: CSRF failure status ${r.status}`);
  }
  // then the right one, from a fresh look at the page (tokens are per page)
  const again = await b.go('GET', m.contact);
  const tok2 = Object.fromEntries([...inputs(formOf(again.text))].map(([k, v]) => [k, v.value ?? '']));
  const right = Object.entries(ex.fields).map(([k, s]) => [k, resolveSpec(k, s, MESSAGE, tok2)]).filter(([, v]) => v !== undefined);
  const { r, rec } = await submit(right);
  ok(matchFields(ex.fields, rec.fields || [], MESSAGE).length === 0, `${m.name}: recorded fields match exactly: ${matchFields(ex.fields, rec.fields || [], MESSAGE)}`);
  ok(rec.expected === true, `${m.name}: the server finds the post expected: ${rec.problems}`);
  ok(rec.headers && rec.headers.referer && rec.headers['user-agent'] && rec.headers['accept-language'], `${m.name}: headers recorded`);
  for (const c of ex.cookies || []) ok((rec.headers.cookie || '').includes(`${c}=`), `${m.name}: the ${c} cookie came back`);
  if (ex.outcome === 'submitted') {
    ok(rec.accepted === true, `${m.name}: the correct post is accepted (${rec.reason} ${rec.errors})`);
    ok(r.status === 200 && r.text.includes(ex.confirm), `${m.name}: the answer says "${ex.confirm}" (${r.status} at ${r.path})`);
  } else {
    ok(rec.accepted === false && rec.reason === 'validation', `${m.name}: always refused (${rec.reason})`);
    ok(r.status === 200 && /<form\b/.test(r.text) && /could not verify/.test(r.text), `${m.name}: the form comes back with the error`);
  }
}

// ---- the run -------------------------------------------------------------------------------------
const onDisk = fs.readFileSync(path.join(here, 'sites.json'), 'utf8');
ok(onDisk === JSON.stringify(manifest(), null, 2) + '\n', 'sites.json is the definitions\' manifest (node server.mjs --manifest > sites.json)');
const man = JSON.parse(onDisk);
ok(man.length >= 25, `${man.length} sites`);
const { child, info } = await start(onlyArg ? ['--sites', onlyArg.join(',')] : []);
try {
  const health = await request(info.admin, 'GET', '/healthz');
  ok(health.status === 200, 'healthz');
  for (const m of man) {
    if (onlyArg && !onlyArg.includes(m.name)) continue;
    const def = SITES.find((s) => s.name === m.name);
    try {
      await checkSite(m, def, info.sites[m.name], info.admin);
    } catch (e) {
      ok(false, `${m.name}: ${e.stack}`);
    }
  }
  const reqs = await admin(info.admin, 'requests');
  ok(reqs.length > man.length && reqs.every((r) => r.site && r.method && r.path && r.time > 0), `requests recorded (${reqs.length})`);
  const posts = await admin(info.admin, 'posts');
  ok(posts.every((p) => p.accepted === false || p.expected === true), 'every accepted post was an expected one');
  await admin(info.admin, 'reset');
  ok((await admin(info.admin, 'posts')).length === 0 && (await admin(info.admin, 'requests')).length === 0, 'reset empties the records');
} finally {
  ok((await stop(child)) === 0, 'the server exits 0 on SIGTERM');
}

if (!argv.includes('--no-bench')) {
  const t0 = Date.now();
  const { child: bc, info: bi } = await start(['--bench', '500', '--delay-ms', '100']);
  const up = Date.now() - t0;
  const names = Object.keys(bi.sites);
  ok(names.length === 500, `bench: 500 origins (up in ${up} ms)`);
  const t1 = Date.now();
  const res = await Promise.all(names.map((n) => request(bi.sites[n], 'GET', '/contact')));
  const wall = Date.now() - t1;
  ok(res.every((r) => r.status === 200), 'bench: every /contact answers 200');
  ok(wall >= 100 && wall < 3000, `bench: 500 pages delayed 100 ms each, fetched at once in ${wall} ms`);
  const rb = await request(bi.sites['bench-7'], 'GET', '/robots.txt');
  ok(rb.body.toString().includes('Allow: /'), 'bench: robots.txt allows all');
  const bb = new Browser(bi.sites['bench-7']);
  const r = await bb.go('POST', '/contact', { body: Buffer.from('name=Ada+Lovelace&email=ada%40analytical-engines.example&message=hi'), type: 'application/x-www-form-urlencoded' });
  ok(r.text.includes('Your message has been sent.'), 'bench: a post is thanked');
  const bp = await admin(bi.admin, 'posts', 'bench-7');
  ok(bp.length === 1 && bp[0].accepted && bp[0].expected, 'bench: the post is recorded');
  console.log(`bench: 500 origins up in ${up} ms; 500 concurrent GETs with --delay-ms 100 in ${wall} ms`);
  ok((await stop(bc)) === 0, 'bench: the server exits 0 on SIGTERM');
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
