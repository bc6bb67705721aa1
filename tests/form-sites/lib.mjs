// The fixture corpus' machinery (no packages): charsets, form bodies (urlencoded and multipart),
// cookies, tokens, the field expectations of the manifest, and the page layout the sites share.
// The sites themselves are in sites*.mjs; the server in server.mjs.
import crypto from 'node:crypto';

// ---- the test sender (tests/form-sites in CONTRACTS11.md) -------------------------------------
export const SENDER = {
  name: 'Ada Lovelace', first_name: 'Ada', last_name: 'Lovelace',
  email: 'ada@analytical-engines.example', phone: '+44 20 7946 0000',
  company: 'Analytical Engines Ltd', website: 'https://analytical-engines.example',
  title: 'Head of Partnerships',
};
export const SUBJECT = 'Enquiry from Analytical Engines Ltd';

// ---- text and charsets ----------------------------------------------------------------------
export const esc = (s) => String(s).replace(/[&<>"']/g,
  (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));

// Windows-1252 by hand: node 20's TextDecoder('windows-1252') decodes 0x80-0x9f as Latin-1's C1
// controls (its one-byte fast path), which is wrong.
const W1252 = '€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008dŽ\u008f\u0090‘’“”•–—˜™š›œ\u009džŸ';
export function decode1252(bytes) {
  let s = '';
  for (const b of bytes) s += b >= 0x80 && b < 0xa0 ? W1252[b - 0x80] : String.fromCharCode(b);
  return s;
}
// Any charset the corpus uses (Latin-1 read as Windows-1252, as browsers do).
export function decodeAs(bytes, charset) {
  const cs = (charset || 'utf-8').toLowerCase();
  if (cs === 'iso-8859-1' || cs === 'windows-1252' || cs === 'latin1' || cs === 'us-ascii') return decode1252(bytes);
  return new TextDecoder(cs).decode(bytes);
}

// Encoders for the legacy charsets the sites are served in, made once from the decoders (node's
// TextDecoder knows them through ICU; there is no TextEncoder for them).
const encoders = new Map();
function encoderFor(charset) {
  const cs = charset.toLowerCase();
  if (encoders.has(cs)) return encoders.get(cs);
  const map = new Map();
  if (cs === 'shift_jis') {
    const dec = new TextDecoder('shift_jis');
    for (let b = 0xa1; b <= 0xdf; b++) map.set(dec.decode(Buffer.from([b])), Buffer.from([b]));
    for (let a = 0x81; a <= 0xfc; a++) {
      if (a >= 0xa0 && a <= 0xdf) continue;
      for (let b = 0x40; b <= 0xfc; b++) {
        if (b === 0x7f) continue;
        const ch = dec.decode(Buffer.from([a, b]));
        if (ch.length === 1 && ch !== '\ufffd' && !map.has(ch)) map.set(ch, Buffer.from([a, b]));
      }
    }
  } else {
    for (let b = 0x80; b <= 0xff; b++) {
      // ISO-8859-1 proper has no printable 0x80-0x9f: only Windows-1252 maps them
      if (cs === 'iso-8859-1' && b < 0xa0) continue;
      const ch = decode1252([b]);
      if (b < 0xa0 && ch.charCodeAt(0) < 0xa0) continue; // undefined in Windows-1252
      map.set(ch, Buffer.from([b]));
    }
  }
  encoders.set(cs, map);
  return map;
}

// A JS string in charset; characters it cannot hold become numeric character references (what a
// server-side template does), so the page stays valid.
export function encode(text, charset) {
  const cs = (charset || 'utf-8').toLowerCase();
  if (cs === 'utf-8') return Buffer.from(text, 'utf8');
  const map = encoderFor(cs);
  const out = [];
  for (const ch of text) {
    const cp = ch.codePointAt(0);
    if (cp < 0x80) out.push(Buffer.from([cp]));
    else if (map.has(ch)) out.push(map.get(ch));
    else out.push(Buffer.from(`&#${cp};`, 'latin1'));
  }
  return Buffer.concat(out);
}

// Bytes of a posted value: UTF-8 when they are valid UTF-8, else the site's charset (a browser
// sends the page's charset; a worker may send UTF-8: both are read right). Which one non-ASCII
// bytes were read as is noted for the post's record (takeEncodings).
let seenEncodings = new Set();
export function takeEncodings() {
  const e = [...seenEncodings].sort();
  seenEncodings = new Set();
  return e.length ? e.join(',') : 'ascii';
}
export function decodeValue(bytes, charset) {
  const ascii = bytes.every((b) => b < 0x80);
  try {
    const s = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    if (!ascii) seenEncodings.add('utf-8');
    return s;
  } catch {
    const cs = (charset || 'windows-1252').toLowerCase();
    seenEncodings.add(cs === 'utf-8' ? 'windows-1252' : cs);
    return decodeAs(bytes, cs === 'utf-8' ? 'windows-1252' : cs);
  }
}

function pctBytes(s) {
  const out = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2b) out.push(0x20);
    else if (c === 0x25 && /^[0-9a-fA-F]{2}$/.test(s.substr(i + 1, 2))) {
      out.push(parseInt(s.substr(i + 1, 2), 16));
      i += 2;
    } else if (c < 0x80) out.push(c);
    else out.push(...Buffer.from(s[i], 'utf8'));
  }
  return Buffer.from(out);
}

// application/x-www-form-urlencoded (a body, or a query string): [[name, value]...] in order.
export function parseUrlencoded(buf, charset) {
  const s = Buffer.isBuffer(buf) ? buf.toString('latin1') : String(buf);
  const out = [];
  for (const part of s.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const k = eq < 0 ? part : part.slice(0, eq), v = eq < 0 ? '' : part.slice(eq + 1);
    out.push([decodeValue(pctBytes(k), charset), decodeValue(pctBytes(v), charset)]);
  }
  return out;
}

// multipart/form-data: {fields: [[name, value]...], files: [{name, filename, content_type, size}]}
// (a file's value in fields is its content as text: "" for the empty file a careful sender sends).
export function parseMultipart(buf, contentType, charset) {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType || '');
  if (!m) return null;
  const boundary = Buffer.from('--' + (m[1] || m[2]).trim(), 'latin1');
  const fields = [], files = [];
  let pos = buf.indexOf(boundary);
  if (pos < 0) return null;
  for (;;) {
    pos += boundary.length;
    if (buf.slice(pos, pos + 2).toString('latin1') === '--') break;
    if (buf.slice(pos, pos + 2).toString('latin1') === '\r\n') pos += 2;
    const next = buf.indexOf(boundary, pos);
    if (next < 0) return null;
    const part = buf.slice(pos, next - 2 >= pos ? next - 2 : next); // drop the CRLF before it
    const he = part.indexOf('\r\n\r\n');
    if (he < 0) return null;
    const head = part.slice(0, he).toString('latin1');
    const body = part.slice(he + 4);
    const cd = /content-disposition:\s*form-data([^\r\n]*)/i.exec(head);
    if (!cd) return null;
    const nm = /;\s*name="([^"]*)"/i.exec(cd[1]);
    const fn = /;\s*filename="([^"]*)"/i.exec(cd[1]);
    const ct = /content-type:\s*([^\r\n]*)/i.exec(head);
    const name = decodeValue(Buffer.from(nm ? nm[1] : '', 'latin1'), charset);
    const value = decodeValue(body, charset);
    fields.push([name, value]);
    if (fn) files.push({ name, filename: decodeValue(Buffer.from(fn[1], 'latin1'), charset),
                         content_type: ct ? ct[1].trim() : null, size: body.length });
    pos = next;
  }
  return { fields, files };
}

export function parseCookies(header) {
  const out = {};
  for (const part of String(header || '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

export const rand = (n, alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789') =>
  Array.from(crypto.randomBytes(n), (b) => alphabet[b % alphabet.length]).join('');
export const hex = (n) => crypto.randomBytes(Math.ceil(n / 2)).toString('hex').slice(0, n);
export const b64url = (n) => crypto.randomBytes(n).toString('base64url');

// ---- the manifest's value specs ---------------------------------------------------------------
// "$sender.<member>", "$message" (any non-empty text when message is null), "$subject", "$any" (a
// token the server checks itself: any non-empty value), "" (empty: a honeypot or a file),
// "$captcha" (a CAPTCHA's answer field: absent or empty, never filled), "$captcha_token" (a
// CAPTCHA's hidden field: absent, or any value), or a literal.
// posted: [[name, value]...], or [{name, value, kind}...] as a worker's result lists them (there
// a field of kind "captcha" that expect does not name is ignored).
// Returns a list of problems (empty: the posted fields are exactly the expected ones).
export function matchFields(expect, posted, message = null) {
  const problems = [];
  const seen = new Map();
  for (const e of posted) {
    const [k, v] = Array.isArray(e) ? e : [e.name, e.value ?? ''];
    if (!Array.isArray(e) && e.kind === 'captcha' && !(k in expect)) continue;
    if (!seen.has(k)) seen.set(k, []);
    seen.get(k).push(v);
  }
  for (const [name, spec] of Object.entries(expect)) {
    const vals = seen.get(name) || [];
    seen.delete(name);
    if (spec === '$captcha') {
      if (vals.length > 1 || (vals.length === 1 && vals[0] !== ''))
        problems.push(`${name}: a CAPTCHA field must be absent or empty, got ${JSON.stringify(vals)}`);
      continue;
    }
    if (spec === '$captcha_token') {
      if (vals.length > 1) problems.push(`${name}: posted ${vals.length} times`);
      continue;
    }
    if (vals.length !== 1) {
      problems.push(`${name}: expected once, posted ${vals.length} times`);
      continue;
    }
    const v = vals[0];
    let ok;
    if (spec === '$any') ok = v !== '';
    else if (spec === '$message') ok = message == null ? v.trim() !== '' : v === message;
    else if (spec === '$subject') ok = v === SUBJECT;
    else if (spec.startsWith('$sender.')) ok = v === SENDER[spec.slice(8)];
    else ok = v === spec;
    if (!ok) problems.push(`${name}: expected ${spec}, got ${JSON.stringify(v)}`);
  }
  for (const [name, vals] of seen) problems.push(`${name}: not expected (${JSON.stringify(vals)})`);
  return problems;
}

// The value a correct sender posts for a spec ($any from the page: tokens[name]).
export function resolveSpec(name, spec, message, tokens) {
  if (spec === '$any') return tokens[name];
  if (spec === '$message') return message;
  if (spec === '$subject') return SUBJECT;
  if (spec === '$captcha' || spec === '$captcha_token') return undefined;
  if (spec.startsWith('$sender.')) return SENDER[spec.slice(8)];
  return spec;
}

// ---- page layout --------------------------------------------------------------------------------
// A whole page: head (charset meta unless meta === false), a header with nav links, the body and
// a footer. nav/footer: [[href, text]...] or HTML strings.
export function page({ lang = 'en', title, charset = 'utf-8', meta = true, head = '', brand,
                       nav = [], body = '', footer = '', bodyClass = '' }) {
  const links = (l) => Array.isArray(l)
    ? l.map(([h, t]) => `<li><a href="${esc(h)}">${t}</a></li>`).join('\n      ')
    : l;
  return `<!DOCTYPE html>
<html lang="${lang}">
<head>
  ${meta ? `<meta charset="${charset}">` : ''}
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${title}</title>
  ${head}
</head>
<body class="${bodyClass}">
<header class="site-header">
  <a class="brand" href="/">${brand || title}</a>
  <nav class="main-nav" aria-label="Main">
    <ul>
      ${links(nav)}
    </ul>
  </nav>
</header>
<main id="content">
${body}
</main>
<footer class="site-footer">
${Array.isArray(footer) ? `<ul>${links(footer)}</ul>` : footer}
  <p class="copyright">&copy; 2026 ${brand || title}</p>
</footer>
</body>
</html>
`;
}
