// The page core over the corpus, without the worker: starts server.mjs, fetches each site's start
// and contact pages (with cookies, following redirects), runs corpus_check (C, on pa_form) on
// them and compares with sites.json: the contact link found, the verdict (embed, CAPTCHA, opt-out,
// no form, unfillable), the fields filled (exactly the manifest's) and the form's method, action
// and enctype; then posts what the page core filled, as the worker would, and checks that the
// site accepted it and that the page core judges the answer as the manifest expects.
//
//   node tests/form-sites/corpus_check.mjs path/to/corpus_check [--only a,b]
// Last line: "N sites as expected, N not"; exit status 1 when any is not.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { matchFields } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const bin = process.argv[2];
if (!bin || !fs.existsSync(bin)) {
  console.error('usage: node corpus_check.mjs path/to/corpus_check [--only a,b]');
  process.exit(2);
}
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1].split(',') : null;
const man = JSON.parse(fs.readFileSync(path.join(here, 'sites.json'))).filter((m) => !only || only.includes(m.name));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'form-corpus-'));

let child, info;
for (let attempt = 0; attempt < 12 && !info; attempt++) {
  const base = 20000 + Math.floor(Math.random() * 9000);
  child = spawn(process.execPath, [path.join(here, 'server.mjs'), '--base-port', String(base)], { stdio: ['ignore', 'pipe', 'inherit'] });
  info = await new Promise((resolve) => {
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      if (buf.includes('\n')) resolve(JSON.parse(buf.split('\n')[0]));
    });
    child.on('exit', () => resolve(null));
  });
}
if (!info) throw new Error('the server did not start');

const jars = {};
function req(port, method, p, body, type, referer) {
  return new Promise((resolve, reject) => {
    const jar = (jars[port] ||= {});
    const headers = { 'user-agent': 'ProspectAI-corpus-check/1.0', 'accept-language': 'en-GB,en;q=0.8' };
    if (Object.keys(jar).length) headers.cookie = Object.entries(jar).map(([k, v]) => `${k}=${v}`).join('; ');
    if (body) Object.assign(headers, { 'content-type': type, 'content-length': body.length });
    if (referer) headers.referer = referer;
    const q = http.request({ host: '127.0.0.1', port, path: p, method, headers, agent: false }, (r) => {
      for (const c of r.headers['set-cookie'] || []) {
        const kv = c.split(';')[0];
        jar[kv.slice(0, kv.indexOf('='))] = kv.slice(kv.indexOf('=') + 1);
      }
      const chunks = [];
      r.on('data', (d) => chunks.push(d));
      r.on('end', () => resolve({ status: r.statusCode, headers: r.headers, body: Buffer.concat(chunks) }));
    });
    q.on('error', reject);
    if (body) q.write(body);
    q.end();
  });
}
async function follow(port, p, method = 'GET', body = null, type = null, referer = null) {
  for (let i = 0; i < 6; i++) {
    const r = await req(port, method, p, body, type, referer);
    if (r.status >= 300 && r.status < 400 && r.headers.location) {
      const u = new URL(r.headers.location, `http://127.0.0.1:${port}${p}`);
      p = u.pathname + u.search;
      if (r.status !== 307 && r.status !== 308) [method, body] = ['GET', null];
      continue;
    }
    return { ...r, path: p };
  }
  throw new Error('too many redirects');
}
const run = (lines) => execFileSync(bin, { input: lines.join('\n') + '\n' }).toString().trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
const enc = (s) => encodeURIComponent(s).replace(/%20/g, '+');

// 1. the pages
const lines = [], pageOf = {};
for (const m of man) {
  const port = info.sites[m.name];
  for (const [kind, p0] of [['home', m.path], ['contact', m.name === 'redirect-chain' ? '/contact-us' : m.contact]]) {
    if (!p0) continue;
    const r = await follow(port, p0);
    const file = path.join(tmp, `${m.name}-${kind}.html`);
    fs.writeFileSync(file, r.body);
    const line = [m.name, kind, `http://127.0.0.1:${port}${r.path}`, r.headers['content-type'] || '-', file];
    if (kind === 'contact') pageOf[m.name] = line;
    lines.push(line.join('\t'));
  }
}
const out = run(lines);
const problems = Object.fromEntries(man.map((m) => [m.name, []]));
for (const m of man) {
  const ex = m.expect, pr = problems[m.name];
  const home = out.find((o) => o.site === m.name && o.kind === 'home');
  const c = out.find((o) => o.site === m.name && o.kind === 'contact');
  const link = m.name === 'redirect-chain' ? '/contact-us' : m.contact;
  if (m.contact && m.name !== 'common-path' && !(home.links || []).some((u) => new URL(u).pathname === link))
    pr.push(`the contact link ${link} is not among ${JSON.stringify(home.links)}`);
  if (m.name === 'common-path' && (home.links || []).length) pr.push(`links found where there are none: ${home.links}`);
  if (!c) continue;
  if (c.error) {
    pr.push(c.error);
    continue;
  }
  const got = c.verdict === 1 ? ['skipped', 'js_required'] : c.verdict === 2 ? ['skipped', 'no_form']
    : c.opt_out ? ['skipped', 'site_opt_out'] : c.captcha ? ['captcha_required', 'captcha']
      : c.unfillable ? ['failed', 'unfillable_field'] : ['submitted'];
  const want = ex.reason === 'robots' || ex.reason === 'validation_errors' ? ['submitted'] : [ex.outcome, ex.reason].filter(Boolean);
  if (got.join('/') !== want.join('/'))
    pr.push(`page verdict ${got.join('/')}, expected ${want.join('/')} (${c.why}; captcha ${c.captcha}; opt-out ${c.opt_out}; embed ${c.embed}; unfillable ${c.unfillable})`);
  if (ex.embed && c.embed !== ex.embed) pr.push(`embed ${c.embed}, expected ${ex.embed}`);
  if (ex.captcha && c.captcha !== ex.captcha) pr.push(`CAPTCHA ${c.captcha}, expected ${ex.captcha}`);
  if (ex.contacts) {
    for (const e of ex.contacts.emails) if (!c.emails.includes(e)) pr.push(`e-mail ${e} not found (${c.emails})`);
    if (c.phones.length < ex.contacts.phones.length) pr.push(`phones ${c.phones}, expected ${ex.contacts.phones}`);
  }
  if (Object.keys(ex.fields).length && c.pairs) {
    const p = matchFields(ex.fields, c.pairs, null);
    if (p.length) pr.push(`filled: ${p.join('; ')}`);
    if (ex.form && (c.method !== ex.form.method || new URL(c.action).pathname !== ex.form.action || c.enctype !== ex.form.enctype))
      pr.push(`form ${c.method} ${c.action} ${c.enctype}, expected ${JSON.stringify(ex.form)}`);
  }
}

// 2. post what the page core filled (the sites a worker posts to) and judge the answers
const alines = [];
for (const m of man) {
  const c = out.find((o) => o.site === m.name && o.kind === 'contact');
  if (!c || !c.pairs || c.unfillable || !(m.expect.posts > 0)) continue;
  const port = info.sites[m.name], sent = pageOf[m.name], u = new URL(c.action);
  let r;
  if (c.method === 'GET') {
    r = await follow(port, `${u.pathname}?${c.pairs.map((x) => `${enc(x.name)}=${enc(x.value)}`).join('&')}`, 'GET', null, null, sent[2]);
  } else if (c.enctype === 'multipart/form-data') {
    const b = '----corpus' + Date.now();
    const parts = c.pairs.map((x) => (x.file
      ? `--${b}\r\nContent-Disposition: form-data; name="${x.name}"; filename=""\r\nContent-Type: application/octet-stream\r\n\r\n\r\n`
      : `--${b}\r\nContent-Disposition: form-data; name="${x.name}"\r\n\r\n${x.value}\r\n`));
    r = await follow(port, u.pathname, 'POST', Buffer.from(parts.join('') + `--${b}--\r\n`), `multipart/form-data; boundary=${b}`, sent[2]);
  } else {
    const body = Buffer.from(c.pairs.map((x) => `${enc(x.name)}=${enc(x.value)}`).join('&'));
    r = await follow(port, u.pathname, 'POST', body, 'application/x-www-form-urlencoded', sent[2]);
  }
  const file = path.join(tmp, `${m.name}-answer.html`);
  fs.writeFileSync(file, r.body);
  alines.push([m.name, 'answer', `http://127.0.0.1:${port}${r.path}`, r.headers['content-type'] || '-', file, sent[2], sent[3], sent[4], r.status].join('\t'));
}
const posts = JSON.parse((await req(info.admin, 'GET', '/admin/posts')).body);
const aout = alines.length ? run(alines) : [];
for (const a of aout) {
  const m = man.find((x) => x.name === a.site);
  const want = m.expect.outcome === 'submitted' ? 0 : 1;
  const p = posts.filter((x) => x.site === a.site);
  const acc = p.length === 1 && (want === 0 ? p[0].accepted : p[0].reason === 'validation');
  if (!acc) problems[a.site].push(`the site's judgement: ${p.map((x) => `${x.reason || 'accepted'} ${x.errors}`).join(', ')}`);
  if (a.judge !== want) problems[a.site].push(`answer judged ${['success', 'failed', 'uncertain'][a.judge]}, expected ${['success', 'failed'][want]} (${a.why} | ${String(a.excerpt).slice(0, 120)})`);
}
child.kill('SIGTERM');
let bad = 0;
for (const [name, pr] of Object.entries(problems))
  if (pr.length) {
    bad++;
    console.log(`${name}:\n  ${pr.join('\n  ')}`);
  }
fs.rmSync(tmp, { recursive: true, force: true });
console.log(`${man.length - bad} sites as expected, ${bad} not (${aout.length} answers judged)`);
process.exit(bad ? 1 : 0);
