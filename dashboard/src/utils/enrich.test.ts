import { describe, expect, it } from 'vitest';
import { ApiError } from '../services/api';
import { infoText, mcpHint, normalizeDomainInput, schemaParams } from './enrich';

describe('normalizeDomainInput', () => {
  it('reduces URLs, addresses and names to the domain', () => {
    expect(normalizeDomainInput('https://www.Acme.example:8443/contact?x=1')).toBe('acme.example');
    expect(normalizeDomainInput('www.example')).toBe('www.example'); // a bare www.<tld> stays
    expect(normalizeDomainInput('  acme.example. ')).toBe('acme.example');
    expect(normalizeDomainInput('ada@Analytical-Engines.example')).toBe('analytical-engines.example');
    expect(normalizeDomainInput('http://user:pw@host.example/')).toBe('host.example');
    expect(normalizeDomainInput('acme.example:80')).toBe('acme.example');
    expect(normalizeDomainInput('')).toBeNull();
    expect(normalizeDomainInput('http://[::1]/')).toBeNull();
  });
});

describe('mcpHint', () => {
  const problem = (slug: string, status: number, retry: number | null = null) =>
    new ApiError(status, { type: `https://prospect-ai.example/problems/${slug}`, title: 't', detail: 'd' }, retry);
  it('explains the MCP problems', () => {
    expect(mcpHint(problem('no-mcp-worker', 503))).toMatch(/prospect-mcp-worker/);
    expect(mcpHint(problem('mcp-not-configured', 503))).toMatch(/MCP_SERVERS/);
    expect(mcpHint(problem('mcp-unavailable', 503, 12))).toMatch(/12 s/);
    expect(mcpHint(problem('whatever', 500))).toBeNull();
    expect(mcpHint(new Error('x'))).toBeNull();
  });
});

describe('schemaParams', () => {
  it('lists the members with their types and whether required', () => {
    expect(
      schemaParams({
        type: 'object',
        properties: { domain: { type: 'string', description: 'd' }, limit: { type: ['integer', 'null'] }, mode: { enum: ['a', 'b'] } },
        required: ['domain'],
      }),
    ).toEqual([
      { name: 'domain', type: 'string', required: true, description: 'd' },
      { name: 'limit', type: 'integer | null', required: false },
      { name: 'mode', type: '"a" | "b"', required: false },
    ]);
    expect(schemaParams(null)).toEqual([]);
  });
});

describe('infoText', () => {
  it('shows primitives and flat lists as text, structures not', () => {
    expect(infoText(158)).toBe('158');
    expect(infoText(['a', 'b'])).toBe('a, b');
    expect(infoText(null)).toBe('—');
    expect(infoText({ a: 1 })).toBeNull();
    expect(infoText([{ a: 1 }])).toBeNull();
  });
});
