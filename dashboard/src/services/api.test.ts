import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  api,
  ApiError,
  ApiUnreachable,
  buildQuery,
  cursorFromUrl,
  fieldErrorsOf,
  importContentType,
  nextCursorFromLink,
  onApiStatus,
  pageOf,
  parseImportResult,
  parseLinkHeader,
  setApiKey,
  uploadImport,
  type ApiStatus,
} from './api';

function jsonResponse(body: unknown, status = 200, headers: Record<string, string> = {}) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json', ...headers },
  });
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('Link and X-Total-Count', () => {
  it('parses rel=next among several links', () => {
    const h = '</api/prospects?limit=100&cursor=cDAwMDEwMA>; rel="next", </api/prospects?limit=100>; rel=first';
    expect(parseLinkHeader(h)).toEqual({
      next: '/api/prospects?limit=100&cursor=cDAwMDEwMA',
      first: '/api/prospects?limit=100',
    });
    expect(nextCursorFromLink(h)).toBe('cDAwMDEwMA');
  });
  it('decodes a percent-encoded cursor and handles absolute URLs', () => {
    expect(cursorFromUrl('http://h:8000/api/handoffs?limit=1&cursor=17965-j-01%2Bx')).toBe('17965-j-01+x');
    expect(nextCursorFromLink(null)).toBeNull();
    expect(nextCursorFromLink('</api/prospects?limit=5>; rel="prev"')).toBeNull();
  });
  it('builds a page from an array body with headers, or from {items,total,next_cursor}', () => {
    const h = new Headers({ 'X-Total-Count': '100000', Link: '</api/prospects?cursor=abc>; rel="next"' });
    expect(pageOf([{ id: 1 }], h)).toEqual({ items: [{ id: 1 }], total: 100000, nextCursor: 'abc' });
    expect(pageOf({ items: [1, 2], total: 2, next_cursor: null }, new Headers())).toEqual({
      items: [1, 2],
      total: 2,
      nextCursor: null,
    });
  });
});

describe('buildQuery', () => {
  it('joins arrays with commas and skips empty values', () => {
    expect(buildQuery({ search: 'acme co', industry: ['SaaS', 'Fintech'], status: [], cursor: null, limit: 50 })).toBe(
      '?search=acme+co&industry=SaaS%2CFintech&limit=50',
    );
    expect(buildQuery({})).toBe('');
  });
});

describe('requests', () => {
  it('sends the stored key and returns a page', async () => {
    setApiKey('  key-0123456789abcdef  ');
    const fetchMock = vi.fn(async (_url: string, _init: RequestInit) =>
      jsonResponse([{ id: 'p-1' }], 200, { 'X-Total-Count': '7', Link: '</api/prospects?cursor=c2>; rel="next"' }),
    );
    vi.stubGlobal('fetch', fetchMock);
    const page = await api.listProspects({ search: ' ada ', industry: ['SaaS'], status: ['new', 'contacted'], limit: 25, sort: '-name' });
    expect(page).toEqual({ items: [{ id: 'p-1' }], total: 7, nextCursor: 'c2' });
    const [url, init] = fetchMock.mock.calls[0];
    expect(url).toBe('/api/prospects?search=ada&industry=SaaS&status=new%2Ccontacted&limit=25&sort=-name');
    expect((init.headers as Record<string, string>).Authorization).toBe('Bearer key-0123456789abcdef');
  });

  it('sends no Authorization without a key', async () => {
    const fetchMock = vi.fn(async (_url: string, _init: RequestInit) => jsonResponse([]));
    vi.stubGlobal('fetch', fetchMock);
    await api.listCampaigns();
    expect((fetchMock.mock.calls[0][1].headers as Record<string, string>).Authorization).toBeUndefined();
  });

  it('turns a problem into an ApiError with field errors', async () => {
    vi.stubGlobal('fetch', async () =>
      jsonResponse(
        {
          type: 'https://prospect-ai.example/problems/invalid-field',
          title: 'Invalid field',
          status: 400,
          detail: 'email: must be an address like name@example.com',
          field: 'email',
        },
        400,
      ),
    );
    const err = await api.patchProspect('p-1', { email: 'x' }).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(400);
    expect(err.title).toBe('Invalid field');
    expect(err.slug).toBe('invalid-field');
    expect(err.errors).toEqual([{ field: 'email', detail: 'must be an address like name@example.com' }]);
    expect(err.fieldError('email')).toBe('must be an address like name@example.com');
  });

  it('sends PATCH as a merge patch', async () => {
    const fetchMock = vi.fn(async (_url: string, _init: RequestInit) => jsonResponse({ id: 'p-1' }));
    vi.stubGlobal('fetch', fetchMock);
    await api.patchProspect('p/1', { title: null });
    const [url, init] = fetchMock.mock.calls[0];
    expect(url).toBe('/api/prospects/p%2F1');
    expect(init.method).toBe('PATCH');
    expect((init.headers as Record<string, string>)['Content-Type']).toBe('application/merge-patch+json');
    expect(init.body).toBe('{"title":null}');
  });

  it('reads an errors array when a problem has one', () => {
    expect(
      fieldErrorsOf({ errors: [{ field: 'name', detail: 'name: required' }, { pointer: '/x', message: 'bad' }] }),
    ).toEqual([
      { field: 'name', detail: 'required' },
      { field: '/x', detail: 'bad' },
    ]);
  });

  it('reports 401 to the banner, network failure as ApiUnreachable', async () => {
    const seen: ApiStatus['kind'][] = [];
    const off = onApiStatus((s) => seen.push(s.kind));
    vi.stubGlobal('fetch', async () =>
      jsonResponse({ type: 'x/unauthorized', title: 'Unauthorized', status: 401, detail: 'missing or wrong API key' }, 401),
    );
    const e1 = await api.listCampaigns().catch((e) => e);
    expect(e1).toBeInstanceOf(ApiError);
    vi.stubGlobal('fetch', async () => {
      throw new TypeError('Failed to fetch');
    });
    const e2 = await api.listCampaigns().catch((e) => e);
    expect(e2).toBeInstanceOf(ApiUnreachable);
    vi.stubGlobal('fetch', async () => new Response('', { status: 502, headers: { 'Content-Type': 'text/plain' } }));
    const e3 = await api.listCampaigns().catch((e) => e);
    expect(e3).toBeInstanceOf(ApiUnreachable);
    vi.stubGlobal('fetch', async () => jsonResponse([]));
    await api.listCampaigns();
    off();
    expect(seen).toEqual(['unauthorized', 'unreachable', 'unreachable', 'ok']);
  });

  it('does not report an aborted request as unreachable', async () => {
    const seen: string[] = [];
    const off = onApiStatus((s) => seen.push(s.kind));
    vi.stubGlobal('fetch', async () => {
      throw new DOMException('aborted', 'AbortError');
    });
    const e = await api.listCampaigns().catch((x) => x);
    off();
    expect(e.name).toBe('AbortError');
    expect(seen).toEqual([]);
  });
});

describe('import', () => {
  it('picks the Content-Type by file name', () => {
    expect(importContentType({ name: 'a.CSV' })).toBe('text/csv');
    expect(importContentType({ name: 'a.jsonl' })).toBe('application/x-ndjson');
    expect(importContentType({ name: 'a.ndjson' })).toBe('application/x-ndjson');
    expect(importContentType({ name: 'a.txt', type: 'text/csv' })).toBe('text/csv');
    expect(importContentType({ name: 'a.xlsx' })).toBeNull();
  });

  it('parses an import result: counts, rejected rows in line order', () => {
    expect(
      parseImportResult({
        imported: 9967,
        updated: 3,
        rejected_total: 1500,
        rejected: [
          { line: 9, error: 'name: required' },
          { line: 2, error: 'email: already used by prospect p-000109' },
        ],
      }),
    ).toEqual({
      imported: 9967,
      updated: 3,
      rejected_total: 1500,
      rejected: [
        { line: 2, error: 'email: already used by prospect p-000109' },
        { line: 9, error: 'name: required' },
      ],
    });
    expect(parseImportResult({ imported: 1, updated: 0, rejected: [] }).rejected_total).toBe(0);
    expect(parseImportResult({ imported: 1, rejected: [{ line: 3, detail: 'x' }] })).toEqual({
      imported: 1,
      updated: 0,
      rejected_total: 1,
      rejected: [{ line: 3, error: 'x' }],
    });
    expect(() => parseImportResult('nope')).toThrow();
  });

  class FakeXhr {
    static last: FakeXhr;
    headers: Record<string, string> = {};
    method = '';
    url = '';
    status = 0;
    statusText = '';
    responseText = '';
    resHeaders: Record<string, string> = {};
    sent: unknown;
    upload: { onprogress?: (e: ProgressEvent) => void; onload?: () => void } = {};
    onload?: () => void;
    onerror?: () => void;
    onabort?: () => void;
    constructor() {
      FakeXhr.last = this;
    }
    open(m: string, u: string) {
      this.method = m;
      this.url = u;
    }
    setRequestHeader(k: string, v: string) {
      this.headers[k] = v;
    }
    getResponseHeader(k: string) {
      return this.resHeaders[k] ?? null;
    }
    send(b: unknown) {
      this.sent = b;
    }
    abort() {
      this.onabort?.();
    }
    respond(status: number, body: unknown, headers: Record<string, string> = {}) {
      this.upload.onprogress?.({ loaded: 5, total: 10, lengthComputable: true } as ProgressEvent);
      this.upload.onload?.();
      this.status = status;
      this.responseText = JSON.stringify(body);
      this.resHeaders = headers;
      this.onload?.();
    }
  }

  it('uploads with progress and resolves the result', async () => {
    setApiKey('key-0123456789abcdef');
    const file = new File(['name,company\nA,B\n'], 'p.csv', { type: 'text/csv' });
    const progress: number[] = [];
    const h = uploadImport(file, (p) => progress.push(p.loaded / p.total), {
      xhr: () => new FakeXhr() as unknown as XMLHttpRequest,
    });
    const x = FakeXhr.last;
    expect(x.method).toBe('POST');
    expect(x.url).toBe('/api/prospects/import');
    expect(x.headers['Content-Type']).toBe('text/csv');
    expect(x.headers.Authorization).toBe('Bearer key-0123456789abcdef');
    x.respond(200, { imported: 1, updated: 0, rejected_total: 0, rejected: [] });
    await expect(h.promise).resolves.toEqual({ imported: 1, updated: 0, rejected_total: 0, rejected: [] });
    expect(progress).toEqual([0.5, 1]);
  });

  it('rejects with the problem (a 503 keeps its counts)', async () => {
    const file = new File(['{}\n'], 'p.jsonl');
    const h = uploadImport(file, () => undefined, { xhr: () => new FakeXhr() as unknown as XMLHttpRequest });
    expect(FakeXhr.last.headers['Content-Type']).toBe('application/x-ndjson');
    FakeXhr.last.respond(
      503,
      { type: 'x/unavailable', title: 'Service unavailable', status: 503, detail: 'Redis failed', imported: 5, written_through_line: 5 },
      { 'Content-Type': 'application/problem+json', 'Retry-After': '2' },
    );
    const e = await h.promise.catch((x) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect(e.status).toBe(503);
    expect(e.retryAfter).toBe(2);
    expect(e.problem.written_through_line).toBe(5);
  });

  it('refuses a file of another kind before sending', async () => {
    const h = uploadImport(new File(['x'], 'p.xlsx'), () => undefined, {
      xhr: () => new FakeXhr() as unknown as XMLHttpRequest,
    });
    await expect(h.promise).rejects.toThrow(/csv/);
  });
});
