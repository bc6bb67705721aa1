// A test MCP server on the official TypeScript SDK (@modelcontextprotocol/sdk, pinned in
// package.json), for the MCP client's tests. Started by tests/mcp-server/start; see
// docs/mcp-testing.md.
//
//   node server.mjs [--port N] [--page-size N] [--retry-ms N]   HTTP on 127.0.0.1
//     (any form also takes --ttl-ms N: every successful tools/call result gets ttlMs N)
//   node server.mjs --stdio [--page-size N]                     stdio
//
// Over HTTP, stdout gets one line, the port, once listening; the log goes to stderr. One
// process serves every HTTP transport, each on its own path:
//   /mcp              Streamable HTTP, stateful (Mcp-Session-Id), SSE answers, resumable
//                     (event store; `retry:` of --retry-ms on the priming event)
//   /mcp-json         Streamable HTTP, stateful, JSON answers
//   /stateless        Streamable HTTP, stateless (no session), SSE answers
//   /stateless-json   Streamable HTTP, stateless, JSON answers
//   /sse + /messages  the legacy HTTP+SSE transport (2024-11-05)
//   /admin/log        GET: every HTTP request seen (method, path, MCP headers, JSON-RPC
//                     methods and ids), oldest first; DELETE: empties it
//   /admin/stats      GET: {requests, methods: {name: count}} over every request (the log keeps
//                     only the last 10,000); DELETE: zeroes them
//   /admin/expire-sessions  POST: forgets every session (the next request with one gets 404)
//   /healthz          GET: 200
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { InMemoryEventStore } from '@modelcontextprotocol/sdk/examples/shared/inMemoryEventStore.js';
import {
    CallToolRequestSchema,
    ErrorCode,
    ListToolsRequestSchema,
    McpError
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

const opts = { port: 0, pageSize: 4, retryMs: 200, stdio: false, ttlMs: undefined };
for (let i = 2; i < process.argv.length; i++) {
    const a = process.argv[i];
    const num = () => {
        const v = Number(process.argv[++i]);
        if (!Number.isInteger(v) || v < 0) usage(`${a} needs a whole number`);
        return v;
    };
    if (a === '--port') opts.port = num();
    else if (a === '--page-size') opts.pageSize = Math.max(1, num());
    else if (a === '--retry-ms') opts.retryMs = num();
    else if (a === '--stdio') opts.stdio = true;
    else if (a === '--ttl-ms') opts.ttlMs = num();
    else usage(`unknown argument ${a}`);
}
function usage(msg) {
    console.error(`mcp-test-server: ${msg}\nusage: server.mjs [--stdio] [--port N] [--page-size N] [--retry-ms N] [--ttl-ms N]`);
    process.exit(2);
}
const log = (...a) => console.error('mcp-test-server:', ...a);
const sleep = (ms, signal) =>
    new Promise((resolve, reject) => {
        if (signal?.aborted) return reject(new Error('cancelled'));
        const t = setTimeout(resolve, ms);
        signal?.addEventListener('abort', () => {
            clearTimeout(t);
            reject(new Error('cancelled'));
        });
    });
const text = (s) => ({ content: [{ type: 'text', text: s }] });
const json = (o) => ({ content: [{ type: 'text', text: JSON.stringify(o) }], structuredContent: o });

// The tools. inputSchema is JSON Schema; handlers get (args, extra) as the SDK gives them.
const TOOLS = [
    {
        name: 'echo',
        description: 'Returns its text.',
        inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
        handler: (a) => text(String(a.text))
    },
    {
        name: 'add',
        description: 'Adds two numbers.',
        inputSchema: {
            type: 'object',
            properties: { a: { type: 'number' }, b: { type: 'number' } },
            required: ['a', 'b']
        },
        handler: (a) => text(String(Number(a.a) + Number(a.b)))
    },
    {
        name: 'enrich_company',
        description: 'Made-up company facts for a domain (deterministic).',
        inputSchema: { type: 'object', properties: { domain: { type: 'string' } }, required: ['domain'] },
        handler: (a) => {
            const d = String(a.domain).toLowerCase();
            const stem = d.split('.')[0] || d;
            return json({
                domain: d,
                name: stem.charAt(0).toUpperCase() + stem.slice(1),
                industry: 'software',
                employees: 10 + (stem.length * 37) % 990,
                country: 'DE'
            });
        }
    },
    {
        name: 'search_contacts',
        description: 'Made-up contacts matching a query (deterministic).',
        inputSchema: {
            type: 'object',
            properties: { query: { type: 'string' }, limit: { type: 'integer', minimum: 1, maximum: 50 } },
            required: ['query']
        },
        handler: (a) => {
            const n = Math.min(50, Math.max(1, Number(a.limit ?? 3)));
            const q = String(a.query);
            const contacts = [];
            for (let i = 1; i <= n; i++)
                contacts.push({ name: `${q} Person ${i}`, email: `person${i}@example.com`, title: 'Head of Sales' });
            return json({ query: q, contacts });
        }
    },
    {
        name: 'slow',
        description:
            'Takes ms milliseconds in steps steps, sending notifications/progress after each when the request has a progressToken; stops when cancelled.',
        inputSchema: {
            type: 'object',
            properties: { ms: { type: 'integer', minimum: 0 }, steps: { type: 'integer', minimum: 1 } }
        },
        handler: async (a, extra) => {
            const ms = Number(a.ms ?? 1000);
            const steps = Math.max(1, Number(a.steps ?? 5));
            const token = extra._meta?.progressToken;
            for (let i = 1; i <= steps; i++) {
                await sleep(ms / steps, extra.signal);
                if (token !== undefined)
                    await extra.sendNotification({
                        method: 'notifications/progress',
                        params: { progressToken: token, progress: i, total: steps, message: `step ${i} of ${steps}` }
                    });
            }
            await sleep(10, extra.signal); // the last progress ahead of the answer, whatever the client's dispatch
            return text(`done after ${steps} steps`);
        }
    },
    {
        name: 'fail_tool',
        description: 'Answers a tool error: a result with isError true and the message as its text.',
        inputSchema: { type: 'object', properties: { message: { type: 'string' } } },
        handler: (a) => ({ content: [{ type: 'text', text: String(a.message ?? 'the tool failed') }], isError: true })
    },
    {
        name: 'fail_rpc',
        description: 'Answers a JSON-RPC error with the code (default -32603) and message given.',
        inputSchema: {
            type: 'object',
            properties: { message: { type: 'string' }, code: { type: 'integer' } }
        },
        handler: (a) => {
            throw new McpError(Number(a.code ?? ErrorCode.InternalError), String(a.message ?? 'the call failed'));
        }
    },
    {
        name: 'close_stream',
        description:
            'On the SSE endpoints with an event store (/mcp): closes the answer stream after sending a progress notification, then answers after ms milliseconds (the client resumes with GET and Last-Event-ID).',
        inputSchema: { type: 'object', properties: { ms: { type: 'integer', minimum: 0 } } },
        handler: async (a, extra) => {
            const token = extra._meta?.progressToken;
            if (token !== undefined)
                await extra.sendNotification({
                    method: 'notifications/progress',
                    params: { progressToken: token, progress: 1, total: 2, message: 'before the close' }
                });
            if (!extra.closeSSEStream) return text('no stream to close here');
            extra.closeSSEStream();
            await sleep(Number(a.ms ?? 300), extra.signal);
            return text('answered after the stream closed');
        }
    },
    {
        name: 'elicit',
        description:
            'Sends elicitation/create (a form with defaults) to the client and answers with the action and content it got.',
        inputSchema: { type: 'object', properties: { message: { type: 'string' } } },
        handler: async (a, extra) => {
            const r = await extra.sendRequest(
                {
                    method: 'elicitation/create',
                    params: {
                        mode: 'form',
                        message: String(a.message ?? 'Confirm the enrichment'),
                        requestedSchema: {
                            type: 'object',
                            properties: {
                                confirm: { type: 'boolean', default: true },
                                region: { type: 'string', default: 'eu' },
                                limit: { type: 'integer', default: 5 }
                            }
                        }
                    }
                },
                z.object({ action: z.string(), content: z.record(z.string(), z.any()).optional() }).passthrough()
            );
            return json({ action: r.action, content: r.content ?? null });
        }
    },
    {
        name: 'ping_client',
        description: 'Sends ping to the client and answers "pong" when it answered.',
        inputSchema: { type: 'object', properties: {} },
        handler: async (_a, extra) => {
            await extra.sendRequest({ method: 'ping' }, z.object({}).passthrough());
            return text('pong');
        }
    },
    {
        name: 'server_request',
        description:
            'Sends the client a request with the method given (default "example/unknown") and answers with what came back: the result, or the error code and message.',
        inputSchema: { type: 'object', properties: { method: { type: 'string' } } },
        handler: async (a, extra) => {
            try {
                const r = await extra.sendRequest(
                    { method: String(a.method ?? 'example/unknown'), params: {} },
                    z.any()
                );
                return json({ result: r ?? null });
            } catch (e) {
                return json({ error: { code: e.code ?? null, message: String(e.message ?? e) } });
            }
        }
    }
];
// Fillers, so that tools/list takes several pages.
for (let i = 1; i <= 9; i++)
    TOOLS.push({
        name: `filler_${i}`,
        description: `Filler tool ${i} (answers its number).`,
        inputSchema: { type: 'object', properties: {} },
        handler: () => text(String(i))
    });

function newServer() {
    const server = new Server(
        { name: 'prospect-mcp-test-server', version: '1.0.0' },
        { capabilities: { tools: { listChanged: false } } }
    );
    server.setRequestHandler(ListToolsRequestSchema, (req) => {
        let start = 0;
        const cursor = req.params?.cursor;
        if (cursor !== undefined) {
            const m = /^page:(\d+)$/.exec(Buffer.from(String(cursor), 'base64url').toString());
            if (!m || Number(m[1]) >= TOOLS.length)
                throw new McpError(ErrorCode.InvalidParams, `invalid cursor ${JSON.stringify(cursor)}`);
            start = Number(m[1]);
        }
        const end = Math.min(TOOLS.length, start + opts.pageSize);
        const page = { tools: TOOLS.slice(start, end).map(({ handler: _h, ...t }) => t) };
        if (end < TOOLS.length) page.nextCursor = Buffer.from(`page:${end}`).toString('base64url');
        return page;
    });
    server.setRequestHandler(CallToolRequestSchema, async (req, extra) => {
        const tool = TOOLS.find((t) => t.name === req.params.name);
        if (!tool) throw new McpError(ErrorCode.InvalidParams, `unknown tool ${req.params.name}`);
        const result = await tool.handler(req.params.arguments ?? {}, extra);
        // --ttl-ms: every successful result says how long it may be cached (the worker's cache)
        if (opts.ttlMs !== undefined && result && !result.isError) result.ttlMs = opts.ttlMs;
        return result;
    });
    return server;
}

if (opts.stdio) {
    const server = newServer();
    await server.connect(new StdioServerTransport());
    log('serving on stdio');
} else {
    startHttp();
}

function startHttp() {
    const requests = [];
    const sessions = new Map(); // session id -> { transport, server, path }
    const legacy = new Map(); // legacy SSE session id -> transport

    const readBody = (req) =>
        new Promise((resolve, reject) => {
            const chunks = [];
            let size = 0;
            req.on('data', (c) => {
                size += c.length;
                if (size > 4 << 20) {
                    reject(new Error('body too large'));
                    req.destroy();
                } else chunks.push(c);
            });
            req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
            req.on('error', reject);
        });
    const answer = (res, status, body, headers = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    const rpcError = (res, status, code, message) =>
        answer(res, status, { jsonrpc: '2.0', error: { code, message }, id: null });
    const stats = { requests: 0, methods: {} }; // every request counted, never capped
    const record = (req, url, parsed) => {
        const h = (n) => req.headers[n];
        const msgs = parsed === undefined ? [] : Array.isArray(parsed) ? parsed : [parsed];
        requests.push({
            time: new Date().toISOString(),
            method: req.method,
            path: url.pathname,
            query: url.search || undefined,
            sessionId: h('mcp-session-id'),
            protocolVersion: h('mcp-protocol-version'),
            lastEventId: h('last-event-id'),
            accept: h('accept'),
            rpc: msgs.map((m) => ({ method: m?.method, id: m?.id }))
        });
        if (requests.length > 10000) requests.shift();
        stats.requests++;
        for (const m of msgs) if (m?.method) stats.methods[m.method] = (stats.methods[m.method] || 0) + 1;
    };

    async function streamable(req, res, url, parsed, { stateful, jsonAnswers }) {
        const sid = req.headers['mcp-session-id'];
        if (!stateful) {
            if (req.method !== 'POST') return rpcError(res, 405, -32000, 'Method not allowed (stateless)');
            const transport = new StreamableHTTPServerTransport({
                sessionIdGenerator: undefined,
                enableJsonResponse: jsonAnswers
            });
            const server = newServer();
            res.on('close', () => {
                transport.close();
                server.close();
            });
            await server.connect(transport);
            return transport.handleRequest(req, res, parsed);
        }
        if (sid !== undefined) {
            const s = sessions.get(sid);
            if (!s || s.path !== url.pathname) return rpcError(res, 404, -32001, 'Session not found');
            return s.transport.handleRequest(req, res, parsed);
        }
        const isInit = parsed && !Array.isArray(parsed) && parsed.method === 'initialize';
        if (req.method !== 'POST' || !isInit)
            return rpcError(res, 400, -32000, 'Bad Request: no Mcp-Session-Id, and not an initialize request');
        const server = newServer();
        const transport = new StreamableHTTPServerTransport({
            sessionIdGenerator: () => randomUUID(),
            enableJsonResponse: jsonAnswers,
            eventStore: jsonAnswers ? undefined : new InMemoryEventStore(),
            retryInterval: jsonAnswers ? undefined : opts.retryMs,
            onsessioninitialized: (id) => {
                sessions.set(id, { transport, server, path: url.pathname });
                log(`session ${id} on ${url.pathname}`);
            },
            onsessionclosed: (id) => {
                sessions.delete(id);
                log(`session ${id} deleted by the client`);
            }
        });
        transport.onclose = () => {
            if (transport.sessionId) sessions.delete(transport.sessionId);
        };
        await server.connect(transport);
        return transport.handleRequest(req, res, parsed);
    }

    async function handle(req, res) {
        const url = new URL(req.url, 'http://127.0.0.1');
        let parsed;
        if (req.method === 'POST') {
            const body = await readBody(req);
            if (body.length > 0) {
                try {
                    parsed = JSON.parse(body);
                } catch {
                    record(req, url, undefined);
                    return rpcError(res, 400, -32700, 'Parse error');
                }
            }
        }
        if (!url.pathname.startsWith('/admin/')) record(req, url, parsed);
        switch (url.pathname) {
            case '/healthz':
                return answer(res, 200, { ok: true });
            case '/admin/log':
                if (req.method === 'DELETE') {
                    requests.length = 0;
                    return answer(res, 200, { ok: true });
                }
                return answer(res, 200, requests);
            case '/admin/stats':
                if (req.method === 'DELETE') {
                    stats.requests = 0;
                    stats.methods = {};
                    return answer(res, 200, { ok: true });
                }
                return answer(res, 200, stats);
            case '/admin/expire-sessions': {
                const n = sessions.size;
                const all = [...sessions.values()];
                sessions.clear();
                for (const s of all) await s.transport.close().catch(() => {});
                return answer(res, 200, { expired: n });
            }
            case '/mcp':
                return streamable(req, res, url, parsed, { stateful: true, jsonAnswers: false });
            case '/mcp-json':
                return streamable(req, res, url, parsed, { stateful: true, jsonAnswers: true });
            case '/stateless':
                return streamable(req, res, url, parsed, { stateful: false, jsonAnswers: false });
            case '/stateless-json':
                return streamable(req, res, url, parsed, { stateful: false, jsonAnswers: true });
            case '/sse': {
                if (req.method !== 'GET') return rpcError(res, 405, -32000, 'Method not allowed');
                const transport = new SSEServerTransport('/messages', res);
                const server = newServer();
                legacy.set(transport.sessionId, transport);
                res.on('close', () => {
                    legacy.delete(transport.sessionId);
                    server.close();
                });
                return server.connect(transport);
            }
            case '/messages': {
                const t = legacy.get(url.searchParams.get('sessionId') ?? '');
                if (!t) return rpcError(res, 404, -32001, 'Session not found');
                return t.handlePostMessage(req, res, parsed);
            }
            default:
                return rpcError(res, 404, -32601, `no endpoint ${url.pathname}`);
        }
    }

    const httpServer = http.createServer((req, res) => {
        handle(req, res).catch((e) => {
            log('error:', e?.stack ?? e);
            if (!res.headersSent) rpcError(res, 500, -32603, 'Internal error');
            else res.end();
        });
    });
    httpServer.listen(opts.port, '127.0.0.1', () => {
        const { port } = httpServer.address();
        process.stdout.write(`${port}\n`);
        log(`listening on http://127.0.0.1:${port}`);
    });
    const stop = () => {
        log('stopping');
        for (const s of sessions.values()) s.transport.close().catch(() => {});
        httpServer.close();
        httpServer.closeAllConnections();
        setTimeout(() => process.exit(0), 200).unref();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
}
