import { describe, expect, it } from 'vitest';
import { createByteParser, openEventStream, SSEParser, type SSEEvent } from './sse';

const STREAM =
  '\uFEFFretry: 2500\n' +
  ': keep-alive comment\n' +
  'id: 1700000000000-0\r\n' +
  'event: snapshot\r\n' +
  'data: {"job":{"id":"j-1","status":"running"},\n' +
  'data: "tasks":[]}\r\n' +
  '\r\n' +
  'id: 1700000000001-0.1\r' +
  'event: task\r' +
  'data: {"task":"000001","state":"succeeded","msg":"héllo ✓ 日本"}\r' +
  '\r' +
  'data\n' +
  '\n' +
  'event: ignored-without-data\n' +
  '\n' +
  'id: 1700000000002-3\n' +
  'event: end\n' +
  'data:{"status":"completed"}\n' +
  '\n';

const EXPECTED: SSEEvent[] = [
  {
    event: 'snapshot',
    data: '{"job":{"id":"j-1","status":"running"},\n"tasks":[]}',
    id: '1700000000000-0',
  },
  { event: 'task', data: '{"task":"000001","state":"succeeded","msg":"héllo ✓ 日本"}', id: '1700000000001-0.1' },
  { event: 'message', data: '', id: '1700000000001-0.1' },
  { event: 'end', data: '{"status":"completed"}', id: '1700000000002-3' },
];

function parseChunks(chunks: string[]): { events: SSEEvent[]; parser: SSEParser } {
  const parser = new SSEParser();
  const events: SSEEvent[] = [];
  for (const c of chunks) events.push(...parser.feed(c));
  return { events, parser };
}

describe('SSEParser', () => {
  it('parses a whole stream', () => {
    const { events, parser } = parseChunks([STREAM]);
    expect(events).toEqual(EXPECTED);
    expect(parser.retry).toBe(2500);
    expect(parser.lastEventId).toBe('1700000000002-3');
  });

  it('gives the same events whatever position splits the text in two', () => {
    for (let i = 0; i <= STREAM.length; i++) {
      const { events } = parseChunks([STREAM.slice(0, i), STREAM.slice(i)]);
      expect(events, `split at ${i}`).toEqual(EXPECTED);
    }
  });

  it('gives the same events when split at every pair of positions (three chunks)', () => {
    const n = STREAM.length;
    for (let i = 0; i <= n; i += 1) {
      for (let j = i; j <= n; j += 3) {
        const { events } = parseChunks([STREAM.slice(0, i), STREAM.slice(i, j), STREAM.slice(j)]);
        if (JSON.stringify(events) !== JSON.stringify(EXPECTED)) {
          expect(events, `split at ${i},${j}`).toEqual(EXPECTED);
        }
      }
    }
  });

  it('gives the same events fed one character at a time', () => {
    expect(parseChunks([...STREAM]).events).toEqual(EXPECTED);
  });

  it('gives the same events from bytes split in every position (UTF-8 inside a character)', () => {
    const bytes = new TextEncoder().encode(STREAM);
    for (let i = 0; i <= bytes.length; i++) {
      const bp = createByteParser();
      const events = [...bp.push(bytes.slice(0, i)), ...bp.push(bytes.slice(i)), ...bp.end()];
      expect(events, `byte split at ${i}`).toEqual(EXPECTED);
    }
  });

  it('handles CRLF split between chunks without an extra blank line', () => {
    const { events } = parseChunks(['data: a\r', '\n', 'data: b\r', '\n\r', '\n']);
    expect(events).toEqual([{ event: 'message', data: 'a\nb', id: '' }]);
  });

  it('drops an unfinished event at the end of the stream', () => {
    const p = new SSEParser();
    expect(p.feed('event: task\ndata: x\n')).toEqual([]);
    p.end();
    expect(p.feed('data: y\n\n')).toEqual([{ event: 'message', data: 'y', id: '' }]);
  });

  it('ignores an id with a NUL and a non-numeric retry; keeps a single leading space only', () => {
    const { events, parser } = parseChunks(['id: a\0b\nretry: 12x\ndata:  two spaces\n\n']);
    expect(events).toEqual([{ event: 'message', data: ' two spaces', id: '' }]);
    expect(parser.retry).toBeNull();
  });
});

function streamResponse(chunks: string[], init: ResponseInit = { status: 200 }): Response {
  const enc = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(ctrl) {
      for (const c of chunks) ctrl.enqueue(enc.encode(c));
      ctrl.close();
    },
  });
  return new Response(body, { headers: { 'Content-Type': 'text/event-stream' }, ...init });
}

describe('openEventStream', () => {
  it('sends the key and Last-Event-ID, resumes after a cut, stops at end', async () => {
    localStorage.setItem('pa.apiKey', 'k-0123456789abcdef');
    const calls: Array<Record<string, string>> = [];
    const responses = [
      streamResponse(['id: 1-0\nevent: snapshot\ndata: {}\n\nid: 2-0\nevent: task\nda']),
      streamResponse(['id: 3-0\nevent: task\ndata: {"n":3}\n\nid: 4-0\nevent: end\ndata: {}\n\n']),
    ];
    const fetchImpl = (async (_url: RequestInfo | URL, init?: RequestInit) => {
      calls.push({ ...(init?.headers as Record<string, string>) });
      return responses.shift()!;
    }) as typeof fetch;
    const got: string[] = [];
    const h = openEventStream('/jobs/j-1/events', {
      onEvent: (e) => got.push(`${e.event}:${e.id}`),
      retryMs: 1,
      fetchImpl,
    });
    await h.done;
    expect(got).toEqual(['snapshot:1-0', 'task:3-0', 'end:4-0']);
    expect(calls).toHaveLength(2);
    expect(calls[0].Authorization).toBe('Bearer k-0123456789abcdef');
    expect(calls[0]['Last-Event-ID']).toBeUndefined();
    expect(calls[1]['Last-Event-ID']).toBe('2-0');
    expect(h.lastEventId).toBe('4-0');
  });

  it('stops on a 404 problem and reports it as final', async () => {
    const fetchImpl = (async () =>
      new Response(JSON.stringify({ type: 'x/not-found', title: 'Not found', status: 404, detail: 'no job j-9' }), {
        status: 404,
        headers: { 'Content-Type': 'application/problem+json' },
      })) as unknown as typeof fetch;
    const errors: Array<[unknown, boolean]> = [];
    const h = openEventStream('/jobs/j-9/events', { onEvent: () => undefined, onError: (e, r) => errors.push([e, r]), fetchImpl });
    await h.done;
    expect(errors).toHaveLength(1);
    expect(errors[0][1]).toBe(false);
    expect((errors[0][0] as { status: number }).status).toBe(404);
  });
});
