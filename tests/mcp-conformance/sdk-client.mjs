// A minimal client on the official TypeScript SDK (the one the conformance suite depends on),
// to show the runner counting passes: it handles `initialize` and `tools_call` (2025-11-25)
// and nothing else. tests/mcp-conformance/run -s tools_call -- \
//     tests/mcp-conformance/node_modules/.bin/node tests/mcp-conformance/sdk-client.mjs
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const url = process.argv[process.argv.length - 1];
const scenario = process.env.MCP_CONFORMANCE_SCENARIO;
const client = new Client({ name: 'sdk-client', version: '1.0.0' }, { capabilities: {} });
await client.connect(new StreamableHTTPClientTransport(new URL(url)));
const { tools } = await client.listTools();
if (scenario === 'tools_call')
    for (const t of tools) console.log(JSON.stringify(await client.callTool({ name: t.name, arguments: { a: 2, b: 3 } })));
await client.close();
