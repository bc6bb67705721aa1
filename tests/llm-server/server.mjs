// LLM test server: speaks the OpenAI chat-completions and Anthropic Messages wire formats on
// 127.0.0.1, with faults chosen per request, for the llm worker's integration tests.
//
//   node server.mjs [port]          (or LLM_SERVER_PORT; 0 or nothing: any free port, printed)
//
// Endpoints
//   POST /v1/chat/completions, /chat/completions   OpenAI (Authorization: Bearer <key>)
//   POST /v1/messages                               Anthropic (x-api-key, anthropic-version)
//   GET  /_health                                   200 ok
//   GET  /_requests                                 every request received, oldest first
//   GET  /_stats                                    {requests, inflight, max_inflight}
//   POST /_reset                                    forgets requests, counters and stats
//
// With LLM_SERVER_KEY set, a request without that key gets 401 in the provider's format.
//
// Normal answer: "[model] " + the draft found in the user message between
// "Draft (the template filled in for this prospect):\n<<<\n" and "\n>>>" (or a fixed sentence),
// as model "<requested model>-2024-07-18", with usage counted as characters / 4.
//
// Streaming: a request with "stream": true gets the answer as Server-Sent Events in the
// provider's real format, one text piece per word, DELAY ms apart (20 by default; marker option
// delay=M):
//   openai     Content-Type: text/event-stream; charset=utf-8, "data: {chat.completion.chunk}"
//              events: the role, one per piece, the finish_reason, then (with
//              stream_options.include_usage) a chunk with empty choices and the usage, then
//              "data: [DONE]"
//   anthropic  message_start (input usage), content_block_start, ping, content_block_delta
//              (text_delta) per piece, content_block_stop, message_delta (stop_reason, output
//              usage), message_stop; each as "event: <type>" + "data: {...}"
// The record of a streamed request has stream: true and pieces: how many text pieces were sent.
// Error statuses (4xx, 5xx, 429) are plain JSON answers, as the real services send them.
//
// Faults: a marker llmfault=<mode>[;times=N][;ra=S][;ms=M][;bytes=B][;id=X] (or "llmfault: ...",
// as the worker writes a target's variable llmfault into the prompt) anywhere in the messages. The first N requests that carry the same marker (default: all of them) get the fault,
// the others the normal answer. Modes:
//   ok          the normal answer
//   429         429 with Retry-After: S (default 1) and a rate-limit error
//   500 503 529 400 401 404 that status with an error body in the provider's format
//   slow        the normal answer after M ms (default 500)
//   hang        accepts the request and never answers
//   truncated   200 with the answer's JSON cut in half (a complete HTTP message); streaming:
//               the events up to half the pieces, then the end of the response without the end
//               marker ([DONE], message_stop)
//   cut         200 promising the whole answer, sending half, then closing the connection;
//               streaming: half the pieces, then the connection is closed mid-stream
//   error200    200 with an error body; streaming: half the pieces, then an error event
//               (anthropic: "event: error" overloaded_error; openai: "data: {"error":...}")
//   big         200 with a valid answer of B bytes of text (default 2 MiB)
//   empty       200 with an empty message
//   refusal     200 with a refusal (OpenAI: message.refusal; Anthropic: stop_reason refusal)
//   placeholder 200 with a message that still holds {{first_name}}
//   quota       the account's quota or credit is exhausted, as each service says it: openai 429
//               insufficient_quota (type and code; no Retry-After), anthropic 400
//               invalid_request_error "Your credit balance is too low ..."
import http from 'node:http';

const key = process.env.LLM_SERVER_KEY || '';
const port = Number(process.argv[2] ?? process.env.LLM_SERVER_PORT ?? 0);
const DRAFT_OPEN = 'Draft (the template filled in for this prospect):\n<<<\n';
const DRAFT_CLOSE = '\n>>>';

let records = [];
let counters = new Map();
let stats = { requests: 0, inflight: 0, max_inflight: 0 };
const sockets = new Set();

function json(res, status, obj, headers = {}) {
  const body = JSON.stringify(obj);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

function providerError(format, status, type, message) {
  if (format === 'anthropic') return { type: 'error', error: { type, message } };
  return { error: { message, type, param: null, code: type } };
}

const errorTypes = {
  openai: { 400: 'invalid_request_error', 401: 'invalid_api_key', 404: 'model_not_found', 429: 'rate_limit_exceeded',
            500: 'server_error', 503: 'server_error', 529: 'server_error' },
  anthropic: { 400: 'invalid_request_error', 401: 'authentication_error', 404: 'not_found_error',
               429: 'rate_limit_error', 500: 'api_error', 503: 'api_error', 529: 'overloaded_error' },
};
const errorMessages = {
  400: 'Invalid request (test fault)', 401: 'Incorrect API key provided', 404: 'The model does not exist',
  429: 'Rate limit reached for requests (test fault)', 500: 'The server had an error while processing your request',
  503: 'The engine is currently overloaded, please try again later', 529: 'Overloaded',
};

function texts(format, req) {
  const out = [];
  if (format === 'anthropic' && typeof req.system === 'string') out.push(req.system);
  for (const m of Array.isArray(req.messages) ? req.messages : []) {
    if (typeof m?.content === 'string') out.push(m.content);
    else if (Array.isArray(m?.content)) for (const b of m.content) if (typeof b?.text === 'string') out.push(b.text);
  }
  return out;
}

function validate(format, req, headers) {
  if (headers['content-type']?.split(';')[0].trim() !== 'application/json') return 'Content-Type must be application/json';
  if (!req || typeof req !== 'object') return 'the body must be a JSON object';
  if (typeof req.model !== 'string' || !req.model) return 'model: required';
  if (!Array.isArray(req.messages) || req.messages.length === 0) return 'messages: required';
  for (const m of req.messages) {
    if (!['system', 'user', 'assistant'].includes(m?.role)) return 'messages: bad role';
    if (typeof m.content !== 'string') return 'messages: content must be a string';
  }
  if (format === 'anthropic') {
    if (!headers['anthropic-version']) return 'anthropic-version: header required';
    if (!Number.isInteger(req.max_tokens) || req.max_tokens < 1) return 'max_tokens: required';
    if (req.messages.some((m) => m.role === 'system')) return 'messages: the system prompt goes in "system"';
    if (req.system !== undefined && typeof req.system !== 'string') return 'system: must be a string';
  }
  return null;
}

function authorised(format, headers) {
  if (!key) return true;
  if (format === 'anthropic') return headers['x-api-key'] === key;
  return headers.authorization === `Bearer ${key}`;
}

function marker(all) {
  const m = /llmfault[=:] ?([^\s"]+)/.exec(all);
  if (!m) return null;
  const [mode, ...opts] = m[1].split(';');
  const o = { raw: m[1], mode };
  for (const kv of opts) {
    const [k, v] = kv.split('=');
    o[k] = v;
  }
  return o;
}

function answer(format, req, text, extra = {}) {
  const all = texts(format, req).join('\n');
  const usage = { prompt: Math.ceil(all.length / 4), completion: Math.ceil(text.length / 4) };
  const model = `${req.model}-2024-07-18`;
  if (format === 'anthropic')
    return {
      usage,
      body: {
        id: `msg_test${stats.requests}`, type: 'message', role: 'assistant', model,
        content: extra.refusal ? [] : [{ type: 'text', text }],
        stop_reason: extra.refusal ? 'refusal' : 'end_turn', stop_sequence: null,
        usage: { input_tokens: usage.prompt, output_tokens: usage.completion },
      },
    };
  return {
    usage,
    body: {
      id: `chatcmpl-test${stats.requests}`, object: 'chat.completion', created: Math.floor(Date.now() / 1000), model,
      choices: [{
        index: 0,
        message: { role: 'assistant', content: extra.refusal ? null : text, refusal: extra.refusal ? "I can't help with that." : null },
        logprobs: null, finish_reason: 'stop',
      }],
      usage: { prompt_tokens: usage.prompt, completion_tokens: usage.completion, total_tokens: usage.prompt + usage.completion },
      system_fingerprint: 'fp_test',
    },
  };
}

function reply(format, req) {
  const user = texts(format, req).join('\n');
  const a = user.indexOf(DRAFT_OPEN);
  const b = a >= 0 ? user.indexOf(DRAFT_CLOSE, a + DRAFT_OPEN.length) : -1;
  return a >= 0 && b >= 0 ? `[model] ${user.slice(a + DRAFT_OPEN.length, b)}` : 'Hello from the test model.';
}

function handleModel(format, req, res, rec) {
  const headers = req.headers;
  let raw = '';
  req.setEncoding('utf8');
  req.on('data', (d) => { raw += d; });
  req.on('end', () => {
    let body = null;
    try { body = JSON.parse(raw); } catch { /* below */ }
    rec.body = body;
    rec.auth = authorised(format, headers);
    rec.anthropic_version = headers['anthropic-version'] ?? null;
    rec.content_type = headers['content-type'] ?? null;
    if (!rec.auth) {
      // like the real services, the message shows the key it got
      const got = format === 'anthropic' ? headers['x-api-key'] : (headers.authorization ?? '').replace(/^Bearer /, '');
      return finish(rec, res, 401, providerError(format, 401, errorTypes[format][401],
                                                 `${errorMessages[401]}: ${got ?? '(none)'}`));
    }
    const bad = body === null ? 'the body is not JSON' : validate(format, body, headers);
    if (bad) return finish(rec, res, 400, providerError(format, 400, 'invalid_request_error', bad));
    const f = marker(texts(format, body).join('\n'));
    let mode = 'ok';
    if (f) {
      const n = (counters.get(f.raw) ?? 0) + 1;
      counters.set(f.raw, n);
      rec.marker = f.raw;
      rec.n = n;
      if (f.times === undefined || n <= Number(f.times)) mode = f.mode;
    }
    rec.mode = mode;
    const text = reply(format, body);
    const status = Number(mode);
    if (Number.isInteger(status) && status >= 400) {
      const h = status === 429 ? { 'Retry-After': String(f.ra ?? 1) } : {};
      return finish(rec, res, status, providerError(format, status, errorTypes[format][status] ?? 'error',
                                                    errorMessages[status] ?? `HTTP ${status}`), h);
    }
    if (mode === 'quota') {
      if (format === 'anthropic')
        return finish(rec, res, 400, providerError(format, 400, 'invalid_request_error',
          'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.'));
      return finish(rec, res, 429, { error: { message: 'You exceeded your current quota, please check your plan and billing details.',
                                              type: 'insufficient_quota', param: null, code: 'insufficient_quota' } });
    }
    if (body.stream === true) return streamModel(format, body, text, mode, f ?? {}, rec, res);
    switch (mode) {
      case 'hang': rec.status = 0; return; // never answered; the socket closes when the client gives up
      case 'slow': {
        const t = setTimeout(() => sendAnswer(format, body, text, rec, res), Number(f.ms ?? 500));
        res.on('close', () => clearTimeout(t));
        return;
      }
      case 'truncated': {
        const s = JSON.stringify(answer(format, body, text).body);
        const half = s.slice(0, Math.floor(s.length / 2));
        rec.status = 200;
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(half) });
        return res.end(half, () => done(rec));
      }
      case 'cut': {
        const s = JSON.stringify(answer(format, body, text).body);
        rec.status = 200;
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(s) });
        res.write(s.slice(0, Math.floor(s.length / 2)), () => { done(rec); res.destroy(); });
        return;
      }
      case 'error200':
        return finish(rec, res, 200, providerError(format, 500, errorTypes[format][500], errorMessages[500]));
      case 'big': return sendAnswer(format, body, 'x'.repeat(Number(f.bytes ?? 2 * 1024 * 1024)), rec, res);
      case 'empty': return sendAnswer(format, body, '', rec, res);
      case 'refusal': return sendAnswer(format, body, '', rec, res, { refusal: true });
      case 'placeholder': return sendAnswer(format, body, 'Hi {{first_name}}, nice to meet you.', rec, res);
      default: return sendAnswer(format, body, text, rec, res);
    }
  });
}

// ---- streaming ----------------------------------------------------------------------------------

// The text in pieces of one word each (a word keeps its following blank), as models stream it.
// With size, pieces of that many characters instead.
function pieces(text, size) {
  return (size ? text.match(new RegExp(`[^]{1,${size}}`, 'g')) : text.match(/\S+\s*|\s+/g)) ?? [];
}

// The SSE events of a streamed answer, in order; 'piece' entries are the text deltas.
function streamEvents(format, req, text, extra = {}) {
  const a = answer(format, req, text, extra);
  const model = a.body.model;
  const parts = pieces(text, extra.size);
  const ev = [];
  if (format === 'anthropic') {
    const sse = (type, obj) => `event: ${type}\ndata: ${JSON.stringify({ type, ...obj })}\n\n`;
    ev.push({ raw: sse('message_start', { message: {
      id: a.body.id, type: 'message', role: 'assistant', content: [], model, stop_reason: null, stop_sequence: null,
      usage: { input_tokens: a.usage.prompt, output_tokens: 1 } } }) });
    ev.push({ raw: sse('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }) });
    ev.push({ raw: sse('ping', {}) });
    for (const p of extra.refusal ? [] : parts)
      ev.push({ piece: true, raw: sse('content_block_delta', { index: 0, delta: { type: 'text_delta', text: p } }) });
    ev.push({ raw: sse('content_block_stop', { index: 0 }) });
    ev.push({ raw: sse('message_delta', { delta: { stop_reason: extra.refusal ? 'refusal' : 'end_turn', stop_sequence: null },
                                          usage: { output_tokens: a.usage.completion } }) });
    ev.push({ end: true, raw: sse('message_stop', {}) });
    return { usage: a.usage, events: ev };
  }
  const includeUsage = req.stream_options?.include_usage === true;
  const chunk = (choices, usage) => `data: ${JSON.stringify({
    id: a.body.id, object: 'chat.completion.chunk', created: a.body.created, model, system_fingerprint: 'fp_test',
    choices, ...(includeUsage ? { usage: usage ?? null } : {}) })}\n\n`;
  ev.push({ raw: chunk([{ index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }]) });
  if (extra.refusal)
    ev.push({ raw: chunk([{ index: 0, delta: { refusal: "I can't help with that." }, logprobs: null, finish_reason: null }]) });
  else
    for (const p of parts)
      ev.push({ piece: true, raw: chunk([{ index: 0, delta: { content: p }, logprobs: null, finish_reason: null }]) });
  ev.push({ raw: chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }]) });
  if (includeUsage)
    ev.push({ raw: chunk([], { prompt_tokens: a.usage.prompt, completion_tokens: a.usage.completion,
                               total_tokens: a.usage.prompt + a.usage.completion }) });
  ev.push({ end: true, raw: 'data: [DONE]\n\n' });
  return { usage: a.usage, events: ev };
}

// Sends a streamed answer, applying the fault mode (see the header).
function streamModel(format, body, text, mode, f, rec, res) {
  rec.stream = true;
  rec.pieces = 0;
  const extra = {};
  if (mode === 'big') {
    text = 'x'.repeat(Number(f.bytes ?? 2 * 1024 * 1024));
    extra.size = 1000;
  }
  else if (mode === 'empty') text = '';
  else if (mode === 'refusal') extra.refusal = true;
  else if (mode === 'placeholder') text = 'Hi {{first_name}}, nice to meet you.';
  const { usage, events } = streamEvents(format, body, text, extra);
  rec.usage = usage;
  rec.reply = text.length > 4096 ? `${text.slice(0, 64)}...(${text.length} bytes)` : text;
  const delay = mode === 'big' ? 0 : Number(f.delay ?? 20);
  const total = events.filter((e) => e.piece).length;
  const half = Math.max(1, Math.floor(total / 2));
  let i = 0;
  let timer = null;
  res.on('close', () => clearTimeout(timer));
  const start = () => {
    if (mode === 'hang') { rec.status = 0; return; }
    rec.status = 200;
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache',
                         Connection: 'keep-alive' });
    next();
  };
  const next = () => {
    if (res.destroyed) return;
    // the faults that strike half way
    if (['cut', 'truncated', 'error200'].includes(mode) && rec.pieces >= half) {
      if (mode === 'cut') { done(rec); return res.destroy(); }
      if (mode === 'error200') {
        const e = providerError(format, 529, 'overloaded_error', 'Overloaded (test fault)');
        res.write(format === 'anthropic' ? `event: error\ndata: ${JSON.stringify(e)}\n\n`
                                         : `data: ${JSON.stringify(providerError(format, 500, 'server_error', errorMessages[500]))}\n\n`);
      }
      return res.end(() => done(rec));
    }
    if (i >= events.length) return res.end(() => done(rec));
    // a piece at a time (with the events between pieces), then wait
    do {
      const e = events[i++];
      res.write(e.raw);
      if (e.piece) { rec.pieces++; break; }
    } while (i < events.length);
    if (delay > 0) timer = setTimeout(next, delay);
    else setImmediate(next);
  };
  if (mode === 'slow') timer = setTimeout(start, Number(f.ms ?? 500));
  else start();
}

function sendAnswer(format, body, text, rec, res, extra) {
  const a = answer(format, body, text, extra);
  rec.usage = a.usage;
  rec.reply = text.length > 4096 ? `${text.slice(0, 64)}...(${text.length} bytes)` : text;
  finish(rec, res, 200, a.body);
}

function done(rec) {
  if (rec.end) return;
  rec.end = Date.now();
  stats.inflight--;
}

function finish(rec, res, status, obj, headers = {}) {
  rec.status = status;
  json(res, status, obj, headers);
  done(rec);
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (req.method === 'GET' && url.pathname === '/_health') return json(res, 200, { ok: true });
  if (req.method === 'GET' && url.pathname === '/_requests') return json(res, 200, records);
  if (req.method === 'GET' && url.pathname === '/_stats') return json(res, 200, stats);
  if (req.method === 'POST' && url.pathname === '/_reset') {
    records = [];
    counters = new Map();
    stats = { requests: 0, inflight: 0, max_inflight: 0 };
    return json(res, 200, { ok: true });
  }
  let format = null;
  if (url.pathname === '/v1/chat/completions' || url.pathname === '/chat/completions') format = 'openai';
  else if (url.pathname === '/v1/messages') format = 'anthropic';
  if (!format || req.method !== 'POST') return json(res, 404, { error: { message: `no route ${req.method} ${url.pathname}` } });
  stats.requests++;
  stats.inflight++;
  stats.max_inflight = Math.max(stats.max_inflight, stats.inflight);
  const rec = { seq: stats.requests, path: url.pathname, format, start: Date.now(), end: null, status: null, mode: null };
  records.push(rec);
  res.on('close', () => done(rec)); // a hung or aborted request leaves the in-flight count too
  handleModel(format, req, res, rec);
});

server.on('connection', (s) => {
  sockets.add(s);
  s.on('close', () => sockets.delete(s));
});
server.keepAliveTimeout = 30000;

function stop() {
  server.close(() => process.exit(0));
  for (const s of sockets) s.destroy();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`llm test server listening on 127.0.0.1:${server.address().port}\n`);
});
