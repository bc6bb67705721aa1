// Server-Sent Events over fetch() + ReadableStream: EventSource cannot send an Authorization
// header. SSEParser follows the WHATWG "event stream interpretation" (lines end with CRLF, LF or
// CR; `:` comments; fields event/data/id/retry; an event is dispatched at a blank line) and takes
// its input in arbitrary chunks. openEventStream reconnects with Last-Event-ID.
import { ApiError, ApiUnreachable, apiUrl, authHeaders, emitStatus, isAbort, problemOf, type Query } from './api';

export interface SSEEvent {
  /** `event:` field, "message" when absent. */
  event: string;
  /** The `data:` lines joined with "\n". */
  data: string;
  /** The last event id seen so far in the stream ("" when none). */
  id: string;
}

export class SSEParser {
  private buf = '';
  /** The previous chunk ended with CR: a LF at the start of the next one belongs to it. */
  private pendingCR = false;
  private bomChecked = false;
  private eventType = '';
  private dataLines: string[] = [];
  private hasData = false;
  /** Last-Event-ID: the last `id:` field seen (kept across events, as the spec says). */
  lastEventId = '';
  /** The last `retry:` value, in ms. */
  retry: number | null = null;

  /** Feeds decoded text; returns the events it completed. */
  feed(chunk: string): SSEEvent[] {
    const out: SSEEvent[] = [];
    if (!chunk) return out;
    let s = chunk;
    if (!this.bomChecked) {
      if (this.buf === '' && s.length > 0) {
        if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
        this.bomChecked = true;
      }
    }
    if (this.pendingCR) {
      this.pendingCR = false;
      if (s.startsWith('\n')) s = s.slice(1);
    }
    this.buf += s;
    let start = 0;
    const b = this.buf;
    for (let i = 0; i < b.length; i++) {
      const c = b.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      const line = b.slice(start, i);
      if (c === 13) {
        if (i + 1 < b.length) {
          if (b.charCodeAt(i + 1) === 10) i++;
        } else {
          this.pendingCR = true;
        }
      }
      start = i + 1;
      this.line(line, out);
    }
    this.buf = b.slice(start);
    return out;
  }

  /** End of stream: an event without its blank line is discarded (per spec). */
  end(): void {
    this.buf = '';
    this.pendingCR = false;
    this.eventType = '';
    this.dataLines = [];
    this.hasData = false;
  }

  private line(line: string, out: SSEEvent[]): void {
    if (line === '') {
      if (this.hasData) {
        out.push({ event: this.eventType || 'message', data: this.dataLines.join('\n'), id: this.lastEventId });
      }
      this.eventType = '';
      this.dataLines = [];
      this.hasData = false;
      return;
    }
    if (line.charCodeAt(0) === 58 /* : */) return;
    const colon = line.indexOf(':');
    let field: string;
    let value: string;
    if (colon < 0) {
      field = line;
      value = '';
    } else {
      field = line.slice(0, colon);
      value = line.slice(colon + 1);
      if (value.charCodeAt(0) === 32) value = value.slice(1);
    }
    switch (field) {
      case 'event':
        this.eventType = value;
        break;
      case 'data':
        this.dataLines.push(value);
        this.hasData = true;
        break;
      case 'id':
        if (!value.includes('\0')) this.lastEventId = value;
        break;
      case 'retry':
        if (/^[0-9]+$/.test(value)) this.retry = Number(value);
        break;
      default:
        break;
    }
  }
}

/** Parses a whole byte stream split into arbitrary chunks (UTF-8 split across chunks too). */
export function createByteParser(parser = new SSEParser()) {
  const decoder = new TextDecoder('utf-8');
  return {
    parser,
    push(bytes: Uint8Array): SSEEvent[] {
      return parser.feed(decoder.decode(bytes, { stream: true }));
    },
    end(): SSEEvent[] {
      const tail = parser.feed(decoder.decode());
      parser.end();
      return tail;
    },
  };
}

export interface EventStreamOptions {
  query?: Query;
  /** Resume after this id (sent as Last-Event-ID on the first request too). */
  lastEventId?: string;
  onEvent: (ev: SSEEvent) => void;
  /** Called on each (re)connection's 200. */
  onOpen?: () => void;
  /** Transient trouble (will retry) or a final error (a 4xx problem: no retry). */
  onError?: (err: unknown, willRetry: boolean) => void;
  /** Event names after which the stream is over (no reconnection). Default ["end"]. */
  stopOn?: string[];
  /** First reconnection delay (ms); doubles up to maxRetryMs; a `retry:` field sets it. */
  retryMs?: number;
  maxRetryMs?: number;
  fetchImpl?: typeof fetch;
}

export interface EventStreamHandle {
  close(): void;
  /** The id to resume from. */
  readonly lastEventId: string;
  /** Resolves when the stream is over (stop event, close(), or a final error). */
  readonly done: Promise<void>;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });
}

/** Reads `GET <API_BASE><path>` as Server-Sent Events until a stop event or close(). */
export function openEventStream(path: string, opts: EventStreamOptions): EventStreamHandle {
  const ctrl = new AbortController();
  const stopOn = new Set(opts.stopOn ?? ['end']);
  const doFetch = opts.fetchImpl ?? fetch;
  const base = opts.retryMs ?? 1000;
  const max = opts.maxRetryMs ?? 15000;
  let lastId = opts.lastEventId ?? '';
  let delay = base;

  const run = async () => {
    while (!ctrl.signal.aborted) {
      const parser = new SSEParser();
      parser.lastEventId = lastId;
      const bytes = createByteParser(parser);
      let stopped = false;
      try {
        const headers: Record<string, string> = { Accept: 'text/event-stream', ...authHeaders() };
        if (lastId) headers['Last-Event-ID'] = lastId;
        const res = await doFetch(apiUrl(path, opts.query), {
          headers,
          signal: ctrl.signal,
          cache: 'no-store',
        });
        if (!res.ok) {
          if ([500, 502, 504].includes(res.status) && !/json/i.test(res.headers.get('Content-Type') || '')) {
            throw new ApiUnreachable(`no answer from the gateway (HTTP ${res.status})`);
          }
          const err = await problemOf(res);
          if (res.status === 401) emitStatus({ kind: 'unauthorized', message: err.detail || err.title });
          // 503 (Redis down) and 429 are worth retrying; other problems are final.
          if (res.status === 503 || res.status === 429) throw err;
          opts.onError?.(err, false);
          return;
        }
        if (!res.body) throw new ApiUnreachable('the event stream has no body');
        emitStatus({ kind: 'ok' });
        opts.onOpen?.();
        delay = base;
        const reader = res.body.getReader();
        for (;;) {
          const { value, done } = await reader.read();
          const evs = done ? bytes.end() : bytes.push(value);
          for (const ev of evs) {
            lastId = parser.lastEventId;
            opts.onEvent(ev);
            if (stopOn.has(ev.event)) stopped = true;
          }
          lastId = parser.lastEventId;
          if (stopped) {
            await reader.cancel().catch(() => undefined);
            break;
          }
          if (done) break;
        }
        if (parser.retry != null) delay = parser.retry;
        if (stopped) return;
        // The server closed the stream before its end event: reconnect and resume.
      } catch (e) {
        if (ctrl.signal.aborted || isAbort(e)) return;
        let err = e;
        if (!(e instanceof ApiError) && !(e instanceof ApiUnreachable)) {
          err = new ApiUnreachable(e instanceof Error ? e.message : 'the event stream failed', e);
        }
        if (err instanceof ApiUnreachable) emitStatus({ kind: 'unreachable', message: err.message });
        opts.onError?.(err, true);
      }
      await sleep(delay, ctrl.signal);
      delay = Math.min(max, Math.max(base, delay * 2));
    }
  };

  const done = run();
  return {
    close: () => ctrl.abort(),
    get lastEventId() {
      return lastId;
    },
    done,
  };
}
