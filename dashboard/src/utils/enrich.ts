/*
 * The company look-up (POST /api/mcp/enrich {domain}) and the MCP tools list, for people: what
 * they type turned into the bare domain the API wants, the API's MCP problems explained, a
 * tool's input schema summarised.
 */
import { ApiError } from '../services/api';

/**
 * "https://www.Acme.example:8443/contact?x" → "acme.example" (a company's domain: the web
 * server's "www." goes); "ada@acme.example" → "acme.example"; a bare name is lowercased, its
 * final dot dropped. Null when nothing is left.
 */
export function normalizeDomainInput(input: string): string | null {
  let s = input.trim();
  if (!s) return null;
  s = s.replace(/^[a-z][a-z0-9+.-]*:\/\//i, ''); // scheme
  s = s.replace(/[/?#].*$/, ''); // path, query, fragment
  if (s.includes('@')) s = s.slice(s.lastIndexOf('@') + 1); // user info, or an address
  if (s.startsWith('[')) return null; // an IPv6 literal is no domain
  s = s.replace(/:\d*$/, ''); // port
  s = s.replace(/\.+$/, '').toLowerCase();
  if (/^www\.[^.]+\.[^.]+/.test(s)) s = s.slice(4);
  return s || null;
}

/** A sentence on what to do about an MCP problem, by its type (docs/api.md, "Errors"). */
export function mcpHint(e: unknown): string | null {
  if (!(e instanceof ApiError)) return null;
  const retry = e.retryAfter ? ` Try again in ${e.retryAfter} s.` : '';
  switch (e.slug) {
    case 'no-mcp-worker':
      return 'No mcp worker is connected: start prospect-mcp-worker (make run starts it).';
    case 'mcp-not-configured':
      return 'No MCP server is configured for this: set MCP_SERVERS (or MCP_SERVER_URL / MCP_SERVER_COMMAND) for the mcp worker, with a tool mapped to enrich_company.';
    case 'mcp-unavailable':
      return `No MCP server could answer: each is unreachable or has its circuit breaker open.${retry}`;
    case 'mcp-timeout':
      return 'The MCP server did not answer in time.';
    case 'mcp-tool-error':
    case 'mcp-failed':
      return 'The MCP server answered with an error (above).';
    case 'mcp-bad-arguments':
      return 'The MCP server refused the arguments.';
    case 'rate-limited':
      return `Too many MCP calls for this API key.${retry}`;
    case 'invalid-field':
      return 'Give a domain name such as acme.example (no scheme, path or port).';
    default:
      return null;
  }
}

export interface SchemaParam {
  name: string;
  type: string;
  required: boolean;
  description?: string;
}

/** A tool's inputSchema's top-level members: name, type, required. */
export function schemaParams(schema: unknown): SchemaParam[] {
  if (!schema || typeof schema !== 'object') return [];
  const s = schema as { properties?: Record<string, unknown>; required?: unknown };
  const req = new Set(Array.isArray(s.required) ? s.required.filter((x): x is string => typeof x === 'string') : []);
  return Object.entries(s.properties ?? {}).map(([name, p]) => {
    const o = (p && typeof p === 'object' ? p : {}) as { type?: unknown; description?: unknown; enum?: unknown };
    let type = Array.isArray(o.type) ? o.type.join(' | ') : typeof o.type === 'string' ? o.type : 'any';
    if (Array.isArray(o.enum)) type = o.enum.map((x) => JSON.stringify(x)).join(' | ');
    return {
      name,
      type,
      required: req.has(name),
      ...(typeof o.description === 'string' ? { description: o.description } : {}),
    };
  });
}

/** A value of company_info as text: primitives as they are, a list of primitives joined. */
export function infoText(v: unknown): string | null {
  if (v == null) return '—';
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v) && v.every((x) => x == null || ['string', 'number', 'boolean'].includes(typeof x))) return v.join(', ');
  return null; // a structure: shown as JSON
}
