// The form worker's fixture corpus: small websites, one origin (port) per site, on 127.0.0.1, each
// modelled on the markup a real form builder emits (sites*.mjs), and an admin API that tells what
// was posted. Node's standard library only.
//
//   node server.mjs --host 127.0.0.1 --base-port P [--sites a,b,...] [--delay-ms N] [--bench N]
//     site i (in the manifest's order, of those chosen by --sites) on port P+i, admin on P-1;
//     prints one JSON line on stdout once all listen: {"admin": P-1, "sites": {"<name>": port}}
//     (exit 3 when a port is taken). --delay-ms delays every answer of the sites (not the admin's).
//     --bench N: N copies of one plain contact site (bench-0 ... bench-<N-1>) on P..P+N-1.
//   node server.mjs --manifest    prints sites.json (made from the sites' definitions)
//   node server.mjs --table       prints the sites as a Markdown table (README.md)
//
// Admin (port P-1):
//   GET  /admin/posts[?site=]     every form submission received, in order: {site, method, path,
//        content_type, fields: [[name, value]...] (multipart parsed; a file's value is its content),
//        files, headers: {cookie, referer, accept-language, user-agent, origin}, time, accepted
//        (the site's own judgement), reason (why not: captcha, csrf, token, honeypot, required,
//        invalid, validation, distractor, no_form_here), errors, expected (the fields are exactly
//        the manifest's and the manifest expects a post), problems (why not)}
//   GET  /admin/requests[?site=]  every request: {site, method, path, time (ms since the epoch)}
//   POST /admin/reset             forgets posts, requests, issued tokens and sessions
//   GET  /healthz                 {"ok": true}
// SIGTERM and SIGINT stop it (exit 0).
import http from 'node:http';
import { SITES, benchSite, manifest } from './sites.mjs';
import { encode, matchFields, parseCookies, parseMultipart, parseUrlencoded, takeEncodings } from './lib.mjs';

const argv = process.argv.slice(2);
const opt = (name, def) => {
  const i = argv.indexOf(name);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : def;
};

if (argv.includes('--table')) {
  const rows = manifest().map((m, i) => {
    const e = m.expect;
    const out = [e.outcome, e.reason, e.embed || e.captcha].filter(Boolean).join(' / ');
    return `| ${i} | ${m.name} | ${m.builder} | ${m.charset} | ${out} | ${e.posts} |`;
  });
  process.stdout.write(['| # | site | builder | charset | expected | posts |', '|---|---|---|---|---|---|', ...rows].join('\n') + '\n');
  process.exit(0);
}
if (argv.includes('--manifest')) {
  process.stdout.write(JSON.stringify(manifest(), null, 2) + '\n');
  process.exit(0);
}

const host = opt('--host', '127.0.0.1');
const base = Number(opt('--base-port', '0'));
const delayMs = Number(opt('--delay-ms', '0'));
const bench = Number(opt('--bench', '0'));
if (!(base > 1 && base < 65536)) {
  console.error('form-sites: --base-port P (2..65535) is required');
  process.exit(2);
}
let sites;
if (bench > 0) {
  sites = Array.from({ length: bench }, (_, i) => benchSite(`bench-${i}`));
} else {
  sites = SITES;
  const only = opt('--sites', '');
  if (only) {
    const names = only.split(',').filter(Boolean);
    for (const n of names)
      if (!SITES.some((s) => s.name === n)) {
        console.error(`form-sites: no site named ${n}`);
        process.exit(2);
      }
    sites = SITES.filter((s) => names.includes(s.name));
  }
}
if (base + sites.length > 65535) {
  console.error('form-sites: the ports do not fit below 65536');
  process.exit(2);
}

// ---- state ----------------------------------------------------------------------------------------
let posts = [], requests = [];
const states = new Map(); // site name -> {issued: Set, sessions: Map}
const stateOf = (site) => {
  if (!states.has(site.name)) states.set(site.name, { issued: new Set(), sessions: new Map() });
  return states.get(site.name);
};

// ---- answers ---------------------------------------------------------------------------------------
function htmlType(site) {
  if (site.contentType !== undefined) return site.contentType;
  return `text/html; charset=${site.charset || 'utf-8'}`;
}

// r: an HTML string (200), or {status, headers, body, type, redirect}
function send(site, ctx, res, r) {
  if (typeof r === 'string') r = { body: r };
  const headers = { ...(r.headers || {}) };
  if (ctx.cookiesOut.length) headers['set-cookie'] = ctx.cookiesOut;
  if (r.redirect) {
    headers.location = r.redirect;
    res.writeHead(r.status || 302, headers);
    res.end(r.body ? encode(r.body, site.charset) : undefined);
    return;
  }
  const type = r.type || htmlType(site);
  if (type) headers['content-type'] = type;
  const body = Buffer.isBuffer(r.body) ? r.body : encode(r.body ?? '', site.charset);
  headers['content-length'] = body.length;
  res.writeHead(r.status || 200, headers);
  res.end(ctx.method === 'HEAD' ? undefined : body);
}

function notFound(site) {
  return { status: 404, body: `<!DOCTYPE html><html><head><title>Not found</title></head><body><h1>Not found</h1><p>The page you asked for does not exist.</p><p><a href="/">Home</a></p></body></html>` };
}

// ---- a site's requests ------------------------------------------------------------------------------
function makeCtx(site, req, url, body) {
  const st = stateOf(site);
  const ctx = {
    site, req, url, body, method: req.method, path: url.pathname, state: st,
    cookies: parseCookies(req.headers.cookie), cookiesOut: [],
    setCookie(name, value, attrs = 'Path=/; HttpOnly; SameSite=Lax') {
      ctx.cookiesOut.push(`${name}=${value}; ${attrs}`);
    },
    // a token the site hands out and later checks (a nonce, a build id, a state)
    issue(make) {
      const t = make();
      st.issued.add(t);
      return t;
    },
    issued: (t) => st.issued.has(t),
  };
  return ctx;
}

function fieldsOf(site, ctx, req, url, body) {
  takeEncodings();
  let r;
  if (ctx.method === 'GET') r = { fields: parseUrlencoded(url.search.slice(1), site.charset), files: [] };
  else if (/^multipart\/form-data/i.test(req.headers['content-type'] || ''))
    r = parseMultipart(body, req.headers['content-type'], site.charset) || { fields: [], files: [], bad: true };
  else r = { fields: parseUrlencoded(body, site.charset), files: [] };
  // what the values' non-ASCII bytes were read as: "utf-8", the site's charset, or "ascii"
  r.encoding = takeEncodings();
  return r;
}

// The site's own judgement of a submission: null (accepted) or [reason, errors].
function judge(site, form, ctx, f) {
  if (form.captcha) return ['captcha', ['The CAPTCHA was not solved']];
  if (form.csrf) {
    const e = form.csrf(ctx, f);
    if (e) return ['csrf', [e]];
  }
  for (const n of form.tokens || [])
    if (!ctx.issued(f.get(n) ?? '')) return ['token', [`${n}: not a token this site issued`]];
  for (const n of form.honeypots || [])
    if ((f.get(n) ?? '') !== '') return ['honeypot', [`${n} is filled`]];
  const errors = [];
  for (const n of form.required || [])
    if ((f.get(n) ?? '').trim() === '') errors.push(`${n}: required`);
  if (errors.length) return ['required', errors];
  for (const n of form.emails || [])
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(f.get(n) ?? '')) errors.push(`${n}: not an e-mail address`);
  for (const [n, v] of Object.entries(form.equals || {}))
    if ((f.get(n) ?? '') !== v) errors.push(`${n}: must be ${JSON.stringify(v)}`);
  if (errors.length) return ['invalid', errors];
  if (form.check) {
    const e = form.check(ctx, f);
    if (e && e.length) return ['validation', e];
  }
  return null;
}

function record(site, ctx, req, path, parsed, extra) {
  const h = req.headers;
  const rec = {
    site: site.name, method: ctx.method, path, content_type: h['content-type'] || null,
    fields: parsed.fields, files: parsed.files, encoding: parsed.encoding,
    headers: { cookie: h.cookie || null, referer: h.referer || null,
               'accept-language': h['accept-language'] || null,
               'user-agent': h['user-agent'] || null, origin: h.origin || null },
    time: Date.now(), ...extra,
  };
  const ex = site.expect || {};
  const problems = (ex.posts || 0) > 0 && extra.form
    ? matchFields(ex.fields || {}, parsed.fields)
    : ['the manifest expects no post to this site' + (extra.form ? '' : ' at this address')];
  rec.expected = problems.length === 0;
  rec.problems = problems;
  delete rec.form;
  posts.push(rec);
  return rec;
}

function isSubmission(site, form, ctx, url) {
  if (!form || ctx.path !== form.action) return false;
  const method = (form.method || 'POST').toUpperCase();
  if (method === 'POST') return ctx.method === 'POST';
  // a GET form: the page's address with the form's fields in the query
  if (ctx.method !== 'GET' || !url.search) return false;
  const names = new Set(Object.keys(site.expect.fields || {}).concat(form.required || []));
  return [...url.searchParams.keys()].some((k) => names.has(k));
}

function handleSite(site, req, res, body) {
  const url = new URL(req.url, 'http://x');
  const ctx = makeCtx(site, req, url, body);
  requests.push({ site: site.name, method: req.method, path: url.pathname + url.search, time: Date.now() });
  const form = site.form;
  if (url.pathname === '/robots.txt' && (req.method === 'GET' || req.method === 'HEAD')) {
    if (site.robots == null) return send(site, ctx, res, { ...notFound(site), type: 'text/html; charset=utf-8' });
    return send(site, ctx, res, { status: site.robotsStatus || 200, body: Buffer.from(site.robots, 'utf8'), type: 'text/plain; charset=utf-8' });
  }
  // any site: /__redirect?to=<url> answers 302 to that URL (the SSRF tests' open redirect)
  if (url.pathname === '/__redirect' && url.searchParams.get('to'))
    return send(site, ctx, res, { status: 302, redirect: url.searchParams.get('to'), body: 'Moved' });
  const redir = site.redirects && site.redirects[url.pathname];
  if (redir) return send(site, ctx, res, { status: redir[0], redirect: redir[1], body: 'Moved' });
  if (isSubmission(site, form, ctx, url)) {
    const parsed = fieldsOf(site, ctx, req, url, body);
    const f = { all: parsed.fields, get: (n) => { const e = parsed.fields.find(([k]) => k === n); return e ? e[1] : undefined; } };
    const verdict = parsed.bad ? ['invalid', ['malformed multipart body']] : judge(site, form, ctx, f);
    const rec = record(site, ctx, req, url.pathname, parsed,
                       { form: true, accepted: !verdict, reason: verdict ? verdict[0] : null, errors: verdict ? verdict[1] : [] });
    if (!verdict) return send(site, ctx, res, form.success(ctx, f));
    if (verdict[0] === 'csrf' && form.csrfFailure) return send(site, ctx, res, form.csrfFailure(ctx, f));
    return send(site, ctx, res, form.failure(ctx, f, verdict[1], rec.reason));
  }
  const distractor = site.distractors && site.distractors[url.pathname];
  if (distractor && (req.method === 'POST' || url.search)) {
    const parsed = fieldsOf(site, ctx, req, url, body);
    record(site, ctx, req, url.pathname, parsed, { accepted: false, reason: 'distractor', errors: [`a ${distractor} form, not the contact form`] });
    return send(site, ctx, res, { status: distractor === 'search' ? 200 : 303, redirect: distractor === 'search' ? undefined : '/', body: '<!DOCTYPE html><html><body><p>No results.</p></body></html>' });
  }
  if (req.method === 'POST') {
    const parsed = fieldsOf(site, ctx, req, url, body);
    record(site, ctx, req, url.pathname, parsed, { accepted: false, reason: 'no_form_here', errors: ['nothing takes a post here'] });
    return send(site, ctx, res, { status: 405, body: '<!DOCTYPE html><html><body><h1>405 Method Not Allowed</h1></body></html>', headers: { allow: 'GET, HEAD' } });
  }
  const p = site.pages && site.pages[url.pathname];
  if (p !== undefined && (req.method === 'GET' || req.method === 'HEAD')) {
    const r = typeof p === 'function' ? p(ctx) : p;
    return send(site, ctx, res, r);
  }
  return send(site, ctx, res, notFound(site));
}

// ---- admin ---------------------------------------------------------------------------------------
function handleAdmin(req, res, body) {
  const url = new URL(req.url, 'http://x');
  const json = (status, v) => {
    const b = Buffer.from(JSON.stringify(v));
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': b.length });
    res.end(b);
  };
  const site = url.searchParams.get('site');
  const only = (list) => (site ? list.filter((e) => e.site === site) : list);
  if (req.method === 'GET' && url.pathname === '/healthz') return json(200, { ok: true, sites: sites.length });
  if (req.method === 'GET' && url.pathname === '/admin/posts') return json(200, only(posts));
  if (req.method === 'GET' && url.pathname === '/admin/requests') return json(200, only(requests));
  if (req.method === 'POST' && url.pathname === '/admin/reset') {
    posts = [];
    requests = [];
    states.clear();
    return json(200, { ok: true });
  }
  if (req.method === 'GET' && url.pathname === '/admin/manifest') return json(200, manifest(sites));
  return json(404, { error: 'not found' });
}

// ---- listening -----------------------------------------------------------------------------------
const MAX_BODY = 4 << 20;
function serve(handler) {
  const srv = http.createServer((req, res) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => {
      const go = () => {
        try {
          handler(req, res, Buffer.concat(chunks));
        } catch (e) {
          console.error('form-sites:', e && e.stack || e);
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
          res.end('internal error');
        }
      };
      if (handler !== handleAdmin && delayMs > 0) setTimeout(go, delayMs);
      else go();
    });
  });
  srv.keepAliveTimeout = 2000;
  return srv;
}

const servers = [];
function listen(srv, port) {
  return new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen({ host, port, backlog: 511 }, () => resolve());
  });
}

try {
  const admin = serve(handleAdmin);
  servers.push(admin);
  await listen(admin, base - 1);
  const map = {};
  for (let i = 0; i < sites.length; i++) {
    const site = sites[i];
    const srv = serve((req, res, body) => handleSite(site, req, res, body));
    servers.push(srv);
    await listen(srv, base + i);
    map[site.name] = base + i;
  }
  process.stdout.write(JSON.stringify({ admin: base - 1, sites: map }) + '\n');
} catch (e) {
  console.error(`form-sites: cannot listen: ${e.code || ''} ${e.message}`);
  process.exit(e.code === 'EADDRINUSE' ? 3 : 1);
}

const stop = () => {
  for (const s of servers) {
    s.close();
    s.closeAllConnections?.();
  }
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
