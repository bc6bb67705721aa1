import { vi } from 'vitest';

export interface Call {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body: unknown;
}

type Handler = (c: Call) => Response | Promise<Response>;

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json', ...headers },
  });
}

/** Stubs fetch with `handler`; returns the calls seen. */
export function mockFetch(handler: Handler): Call[] {
  const calls: Call[] = [];
  vi.stubGlobal('fetch', async (input: string, init: RequestInit = {}) => {
    const c: Call = {
      method: init.method ?? 'GET',
      url: new URL(input, 'http://localhost'),
      headers: (init.headers as Record<string, string>) ?? {},
      body: typeof init.body === 'string' ? JSON.parse(init.body) : init.body,
    };
    calls.push(c);
    if (init.signal?.aborted) throw new DOMException('aborted', 'AbortError');
    return handler(c);
  });
  return calls;
}
