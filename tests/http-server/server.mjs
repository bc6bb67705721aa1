// A small HTTP server for tests/unit/test_http.c (plain node:http, no packages). It listens on
// 127.0.0.1 on the port given as the first argument (0: any) and prints "listening <port>".
//
//   ANY  /echo                      200 {method, url, headers, body, body_len}
//   GET  /redirect?code=&to=&cookie= a redirect (Location: to), setting a cookie when asked
//   GET  /chain?n=                   n redirects (302) down to /echo
//   GET  /cookie/set?name=&value=    Set-Cookie: name=value; Path=/
//   GET  /slow?ms=                   answers after ms
//   GET  /drip?chunks=&ms=&key=      a body of chunks of 100 bytes, one every ms
//   GET  /big?bytes=                 a body of that many bytes
//   GET  /hold?ms=&key=              answers after ms; counts requests in flight per key
//   GET  /headers                    a response with several headers (Retry-After, two X-Multi)
//   GET  /stats?key=                 {active, max, count, aborted} of a key
//   GET  /status?code=&key=          answers with that status (body "status <code>"); counted per key
import http from 'node:http';

const stats = new Map();
const stat = (k) => {
  if (!stats.has(k)) stats.set(k, { active: 0, max: 0, count: 0, aborted: 0 });
  return stats.get(k);
};

function track(req, res, key) {
  const s = stat(key);
  s.active++;
  s.count++;
  if (s.active > s.max) s.max = s.active;
  let done = false;
  const end = () => { if (!done) { done = true; s.active--; } };
  res.on('finish', end);
  res.on('close', () => { if (!res.writableFinished) s.aborted++; end(); });
}

const server = http.createServer((req, res) => {
  const u = new URL(req.url, 'http://x');
  const q = (k, d) => u.searchParams.get(k) ?? d;
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    switch (u.pathname) {
      case '/echo': {
        const out = JSON.stringify({ method: req.method, url: req.url, headers: req.headers,
                                     body: body.toString('utf8'), body_len: body.length });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(req.method === 'HEAD' ? undefined : out);
        break;
      }
      case '/redirect': {
        const h = { location: q('to', '/echo') };
        if (q('cookie')) h['set-cookie'] = q('cookie') + '; Path=/';
        res.writeHead(Number(q('code', '302')), h);
        res.end('moved');
        break;
      }
      case '/chain': {
        const n = Number(q('n', '0'));
        res.writeHead(302, { location: n > 1 ? `/chain?n=${n - 1}` : '/echo' });
        res.end();
        break;
      }
      case '/cookie/set':
        res.writeHead(200, { 'set-cookie': `${q('name', 'c')}=${q('value', 'v')}; Path=/` });
        res.end('ok');
        break;
      case '/slow':
        setTimeout(() => { res.writeHead(200); res.end('slow'); }, Number(q('ms', '1000')));
        break;
      case '/drip': {
        track(req, res, q('key', 'drip'));
        let left = Number(q('chunks', '50'));
        res.writeHead(200, { 'content-type': 'text/plain' });
        const t = setInterval(() => {
          if (res.destroyed) { clearInterval(t); return; }
          res.write('x'.repeat(100));
          if (--left <= 0) { clearInterval(t); res.end(); }
        }, Number(q('ms', '100')));
        res.on('close', () => clearInterval(t));
        break;
      }
      case '/big':
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.end(Buffer.alloc(Number(q('bytes', '1000')), 'a'));
        break;
      case '/hold':
        track(req, res, q('key', 'hold'));
        setTimeout(() => { res.writeHead(200); res.end('held'); }, Number(q('ms', '200')));
        break;
      case '/headers':
        res.setHeader('Retry-After', '7');
        res.setHeader('X-Multi', ['a', 'b']);
        res.setHeader('Content-Type', 'text/plain; charset=utf-8');
        res.writeHead(429);
        res.end('slow down');
        break;
      case '/status':
        track(req, res, q('key', 'status'));
        res.writeHead(Number(q('code', '200')));
        res.end(`status ${q('code', '200')}`);
        break;
      case '/stats':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(stat(q('key', 'hold'))));
        break;
      default:
        res.writeHead(404);
        res.end('not found');
    }
  });
});
server.keepAliveTimeout = 30000;
server.maxConnections = 5000;
server.listen({ port: Number(process.argv[2] || 0), host: '127.0.0.1', backlog: 4096 }, () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
