// Checks the test servers with the SDK's own client, so that a failure in the C client's tests
// is the C client's: node selftest.mjs http://127.0.0.1:PORT  (server.mjs over HTTP)
//                   node selftest.mjs --stdio                  (server.mjs over stdio)
//                   node selftest.mjs --everything URL|--stdio (server-everything)
// Prints one line per check and "N passed, N failed" last; exits 1 when one failed.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
let passed = 0;
let failed = 0;
async function check(name, fn) {
    try {
        const detail = await fn();
        passed++;
        console.log(`ok   ${name}${detail ? `: ${detail}` : ''}`);
    } catch (e) {
        failed++;
        console.log(`FAIL ${name}: ${e?.message ?? e}`);
    }
}
function assert(cond, msg) {
    if (!cond) throw new Error(msg);
}
const textOf = (r) => r.content?.[0]?.text;

async function connect(transport, capabilities = {}) {
    const client = new Client({ name: 'selftest', version: '1.0.0' }, { capabilities });
    await client.connect(transport);
    return client;
}

async function listAll(client) {
    const names = [];
    let cursor;
    let pages = 0;
    do {
        const r = await client.listTools(cursor ? { cursor } : {});
        names.push(...r.tools.map((t) => t.name));
        cursor = r.nextCursor;
        pages++;
    } while (cursor);
    return { names, pages };
}

// progress: the answers are a stream (not a JSON body); serverRequests: the server can reach the
// client during a call (a stream and a session to answer into).
async function ours(label, makeTransport, { progress = true, serverRequests = true, resumable = false, http = false, base } = {}) {
    const client = await connect(makeTransport(), { elicitation: { form: {} } });
    client.setRequestHandler(ElicitRequestSchema, (req) => {
        const content = {};
        for (const [k, v] of Object.entries(req.params.requestedSchema?.properties ?? {}))
            if (v.default !== undefined) content[k] = v.default;
        return { action: 'accept', content };
    });
    await check(`${label}: tools/list paginated`, async () => {
        const { names, pages } = await listAll(client);
        assert(pages > 1, `one page only`);
        assert(names.includes('slow') && names.includes('filler_9'), `tools ${names}`);
        return `${names.length} tools in ${pages} pages`;
    });
    await check(`${label}: bad cursor is -32602`, async () => {
        try {
            await client.listTools({ cursor: 'nonsense' });
        } catch (e) {
            assert(e.code === -32602, `code ${e.code}`);
            return e.message;
        }
        throw new Error('no error');
    });
    await check(`${label}: echo`, async () => {
        const r = await client.callTool({ name: 'echo', arguments: { text: 'hi' } });
        assert(textOf(r) === 'hi', JSON.stringify(r));
    });
    await check(`${label}: enrich_company`, async () => {
        const r = await client.callTool({ name: 'enrich_company', arguments: { domain: 'acme.com' } });
        assert(r.structuredContent?.name === 'Acme', JSON.stringify(r));
    });
    if (progress) await check(`${label}: slow with progress`, async () => {
        const seen = [];
        const r = await client.callTool({ name: 'slow', arguments: { ms: 300, steps: 3 } }, undefined, {
            onprogress: (p) => seen.push(p.progress)
        });
        assert(textOf(r) === 'done after 3 steps', JSON.stringify(r));
        assert(seen.join() === '1,2,3', `progress ${seen}`);
        return `progress ${seen}`;
    });
    await check(`${label}: slow times out and is cancelled`, async () => {
        try {
            await client.callTool({ name: 'slow', arguments: { ms: 5000, steps: 1 } }, undefined, { timeout: 200 });
        } catch (e) {
            return e.message;
        }
        throw new Error('no timeout');
    });
    await check(`${label}: fail_tool is isError`, async () => {
        const r = await client.callTool({ name: 'fail_tool', arguments: { message: 'no such domain' } });
        assert(r.isError === true && textOf(r) === 'no such domain', JSON.stringify(r));
    });
    await check(`${label}: fail_rpc is a JSON-RPC error`, async () => {
        try {
            await client.callTool({ name: 'fail_rpc', arguments: { message: 'quota exceeded', code: -32050 } });
        } catch (e) {
            assert(e.code === -32050 && /quota exceeded/.test(e.message), `${e.code} ${e.message}`);
            return e.message;
        }
        throw new Error('no error');
    });
    if (serverRequests) await check(`${label}: elicit answered with defaults`, async () => {
        const r = await client.callTool({ name: 'elicit', arguments: {} }, undefined, { timeout: 5000 });
        assert(r.structuredContent?.action === 'accept' && r.structuredContent.content?.region === 'eu', JSON.stringify(r));
    });
    if (serverRequests) await check(`${label}: ping_client`, async () => {
        const r = await client.callTool({ name: 'ping_client', arguments: {} }, undefined, { timeout: 5000 });
        assert(textOf(r) === 'pong', JSON.stringify(r));
    });
    if (serverRequests) await check(`${label}: server_request gets -32601`, async () => {
        const r = await client.callTool({ name: 'server_request', arguments: {} }, undefined, { timeout: 5000 });
        assert(r.structuredContent?.error?.code === -32601, JSON.stringify(r));
    });
    if (resumable)
        await check(`${label}: close_stream, resumed`, async () => {
            const r = await client.callTool({ name: 'close_stream', arguments: { ms: 300 } });
            assert(textOf(r) === 'answered after the stream closed', JSON.stringify(r));
        });
    if (http && client.transport?.sessionId) {
        await check(`${label}: expired session is 404`, async () => {
            const sid = client.transport.sessionId;
            await fetch(`${base}/admin/expire-sessions`, { method: 'POST' });
            const res = await fetch(`${base}${new URL(client.transport._url).pathname}`, {
                method: 'POST',
                headers: {
                    'content-type': 'application/json',
                    accept: 'application/json, text/event-stream',
                    'mcp-session-id': sid,
                    'mcp-protocol-version': '2025-11-25'
                },
                body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' })
            });
            assert(res.status === 404, `status ${res.status}`);
        });
        await check(`${label}: DELETE of a fresh session`, async () => {
            const c2 = await connect(makeTransport());
            await c2.transport.terminateSession();
            const log = await (await fetch(`${base}/admin/log`)).json();
            assert(log.some((r) => r.method === 'DELETE' && r.sessionId === c2.transport.sessionId ||
                r.method === 'DELETE' && r.path === new URL(c2.transport._url).pathname), 'no DELETE logged');
            await c2.close();
        });
    }
    await client.close();
}

async function everything(label, transport) {
    const client = await connect(transport);
    await check(`${label}: tools/list`, async () => {
        const { names } = await listAll(client);
        for (const n of ['echo', 'get-sum', 'get-structured-content', 'trigger-long-running-operation'])
            assert(names.includes(n), `no ${n} in ${names}`);
        return `${names.length} tools`;
    });
    await check(`${label}: echo`, async () => {
        const r = await client.callTool({ name: 'echo', arguments: { message: 'hi' } });
        assert(/hi/.test(textOf(r)), JSON.stringify(r));
    });
    await check(`${label}: get-sum`, async () => {
        const r = await client.callTool({ name: 'get-sum', arguments: { a: 2, b: 3 } });
        assert(/5/.test(textOf(r)), JSON.stringify(r));
    });
    await check(`${label}: get-structured-content`, async () => {
        const r = await client.callTool({ name: 'get-structured-content', arguments: { location: 'New York' } });
        assert(r.structuredContent, JSON.stringify(r));
    });
    await check(`${label}: trigger-long-running-operation with progress`, async () => {
        const seen = [];
        await client.callTool(
            { name: 'trigger-long-running-operation', arguments: { duration: 1, steps: 2 } },
            undefined,
            { onprogress: (p) => seen.push(p.progress) }
        );
        // server-everything answers right after its last progress; the SDK client may drop that
        // one (it reads the answer first), so one is enough here.
        assert(seen.length >= 1, `progress ${seen}`);
        return `progress ${seen}`;
    });
    await client.close();
}

const args = process.argv.slice(2);
const node = process.execPath;
if (args[0] === '--everything') {
    if (args[1] === '--stdio')
        await everything('everything stdio', new StdioClientTransport({ command: path.join(here, 'start'), args: ['--everything', 'stdio'], stderr: 'ignore' }));
    else await everything('everything streamable http', new StreamableHTTPClientTransport(new URL(`${args[1]}/mcp`)));
} else if (args[0] === '--stdio') {
    await ours('stdio', () => new StdioClientTransport({ command: node, args: [path.join(here, 'server.mjs'), '--stdio'] }));
} else if (args[0]) {
    const base = args[0].replace(/\/$/, '');
    const http = (p) => () => new StreamableHTTPClientTransport(new URL(base + p));
    await ours('http /mcp (stateful, SSE)', http('/mcp'), { resumable: true, http: true, base });
    await ours('http /mcp-json (stateful, JSON)', http('/mcp-json'), { progress: false, serverRequests: false, http: true, base });
    await ours('http /stateless (SSE)', http('/stateless'), { serverRequests: false, base });
    await ours('http /stateless-json (JSON)', http('/stateless-json'), { progress: false, serverRequests: false, base });
    await ours('legacy SSE /sse', () => new SSEClientTransport(new URL(`${base}/sse`)), { base });
    await check('admin/log records the requests', async () => {
        const log = await (await fetch(`${base}/admin/log`)).json();
        assert(log.some((r) => r.rpc.some((m) => m.method === 'initialize')), 'no initialize');
        assert(log.some((r) => r.method === 'GET' && r.path === '/sse'), 'no GET /sse');
        return `${log.length} requests`;
    });
} else {
    console.error('usage: selftest.mjs URL | --stdio | --everything URL|--stdio');
    process.exit(2);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
