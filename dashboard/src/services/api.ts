// The typed client of the gateway's HTTP API (docs/api.md, docs/openapi.json).
//
// - The API key is the one the operator typed, kept in localStorage "pa.apiKey" and sent as
//   `Authorization: Bearer <key>`; nothing secret is in the bundle.
// - A problem document (RFC 9457) becomes an ApiError {status, title, detail, errors}; a request
//   that never got an answer from the gateway becomes ApiUnreachable.
// - Lists: X-Total-Count and `Link: <...>; rel="next"` (or a body's total/next_cursor) → Page<T>.
// - Every outcome is published to subscribers (the App's banner): ok, unreachable, unauthorized.
import type {
  Campaign,
  CampaignInput,
  DeadList,
  GenerateRequest,
  GenerateResponse,
  Handoff,
  HandoffDone,
  Health,
  ImportResult,
  Job,
  McpEnrichResponse,
  McpToolsResponse,
  Page,
  Prospect,
  ProspectInput,
  ProspectPatch,
  ProspectQuery,
  QueuesResponse,
  RunRequest,
  RunResponse,
  Suppression,
  SuppressionInput,
  SuppressionResult,
  Task,
  WorkersResponse,
} from '../types';

export const API_BASE: string = (import.meta.env.VITE_API_URL as string | undefined) || '/api';
export const API_KEY_STORAGE = 'pa.apiKey';

// ---------------------------------------------------------------------------------------------
// The API key

export function getApiKey(): string {
  try {
    return localStorage.getItem(API_KEY_STORAGE) ?? '';
  } catch {
    return '';
  }
}

export function setApiKey(key: string): void {
  const k = key.trim();
  try {
    if (k) localStorage.setItem(API_KEY_STORAGE, k);
    else localStorage.removeItem(API_KEY_STORAGE);
  } catch {
    /* storage disabled: the key lasts as long as nothing reads it again */
  }
  emitStatus({ kind: 'key-changed' });
}

export function authHeaders(): Record<string, string> {
  const key = getApiKey();
  return key ? { Authorization: `Bearer ${key}` } : {};
}

// ---------------------------------------------------------------------------------------------
// Errors

export interface FieldError {
  /** The field or query parameter at fault (`name`, `targets[3]`, `options.token_budget`). */
  field: string;
  detail: string;
}

/** A problem document (RFC 9457) the gateway answered. */
export class ApiError extends Error {
  readonly status: number;
  readonly title: string;
  readonly detail: string;
  readonly type: string;
  /** Field errors: the problem's `errors` array when it has one, else its single `field`. */
  readonly errors: FieldError[];
  /** The whole problem document (some carry more: an import's counts, `completed_at`...). */
  readonly problem: Record<string, unknown>;
  /** Seconds, from `Retry-After`. */
  readonly retryAfter: number | null;

  constructor(status: number, problem: Record<string, unknown>, retryAfter: number | null = null) {
    const title = typeof problem.title === 'string' && problem.title ? problem.title : `HTTP ${status}`;
    const detail = typeof problem.detail === 'string' ? problem.detail : '';
    super(detail ? `${title}: ${detail}` : title);
    this.name = 'ApiError';
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.type = typeof problem.type === 'string' ? problem.type : 'about:blank';
    this.problem = problem;
    this.errors = fieldErrorsOf(problem);
    this.retryAfter = retryAfter;
  }

  /** The problem type's slug: `invalid-field`, `unauthorized`, `conflict`... */
  get slug(): string {
    const i = this.type.lastIndexOf('/');
    return i >= 0 ? this.type.slice(i + 1) : this.type;
  }

  /** The message for one field, if the problem names it. */
  fieldError(field: string): string | undefined {
    return this.errors.find((e) => e.field === field)?.detail;
  }
}

/** No answer from the gateway: a network failure, or the dev proxy could not reach it. */
export class ApiUnreachable extends Error {
  override readonly cause: unknown;
  constructor(message: string, cause?: unknown) {
    super(message);
    this.name = 'ApiUnreachable';
    this.cause = cause;
  }
}

/** "name: must be a string..." → "must be a string..." when the prefix is the field's name. */
function stripFieldPrefix(field: string, detail: string): string {
  const p = `${field}: `;
  return detail.startsWith(p) ? detail.slice(p.length) : detail;
}

export function fieldErrorsOf(problem: Record<string, unknown>): FieldError[] {
  const out: FieldError[] = [];
  const errs = problem.errors;
  if (Array.isArray(errs)) {
    for (const e of errs) {
      if (!e || typeof e !== 'object') continue;
      const o = e as Record<string, unknown>;
      const field = typeof o.field === 'string' ? o.field : typeof o.pointer === 'string' ? o.pointer : '';
      const d =
        typeof o.detail === 'string' ? o.detail : typeof o.message === 'string' ? o.message : '';
      if (field || d) out.push({ field, detail: stripFieldPrefix(field, d) });
    }
  }
  if (out.length === 0 && typeof problem.field === 'string' && problem.field) {
    const d = typeof problem.detail === 'string' ? problem.detail : '';
    out.push({ field: problem.field, detail: stripFieldPrefix(problem.field, d) });
  }
  return out;
}

/** A human message for any error thrown by this module (or anything else). */
export function errorMessage(e: unknown): string {
  if (e instanceof ApiError) return e.detail ? `${e.title}: ${e.detail}` : e.title;
  if (e instanceof ApiUnreachable) return `API unreachable: ${e.message}`;
  if (e instanceof Error) return e.message;
  return String(e);
}

/** Errors the App's banner already shows (API unreachable, key refused): pages need not repeat them. */
export function isBannerError(e: unknown): boolean {
  return e instanceof ApiUnreachable || (e instanceof ApiError && e.status === 401);
}

export function isAbort(e: unknown): boolean {
  return (
    (e instanceof DOMException && e.name === 'AbortError') ||
    (e instanceof Error && e.name === 'AbortError')
  );
}

// ---------------------------------------------------------------------------------------------
// Status for the banner

export type ApiStatus =
  | { kind: 'ok' }
  | { kind: 'unreachable'; message: string }
  | { kind: 'unauthorized'; message: string }
  | { kind: 'key-changed' };

type Listener = (s: ApiStatus) => void;
const listeners = new Set<Listener>();

export function onApiStatus(l: Listener): () => void {
  listeners.add(l);
  return () => {
    listeners.delete(l);
  };
}

export function emitStatus(s: ApiStatus): void {
  for (const l of [...listeners]) l(s);
}

// ---------------------------------------------------------------------------------------------
// Headers

/** `<a>; rel="next", <b>; rel="prev"` → {next: "a", prev: "b"}. */
export function parseLinkHeader(header: string | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  const re = /<([^>]*)>((?:\s*;\s*[^;,]+)*)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(header))) {
    const url = m[1];
    const params = m[2];
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i.exec(params);
    if (!rel) continue;
    for (const r of (rel[1] ?? rel[2]).split(/\s+/)) if (r && !(r in out)) out[r] = url;
  }
  return out;
}

/** The `cursor` query parameter of a Link URL (relative or absolute). */
export function cursorFromUrl(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    return new URL(url, 'http://x.invalid').searchParams.get('cursor');
  } catch {
    return null;
  }
}

export function nextCursorFromLink(header: string | null | undefined): string | null {
  return cursorFromUrl(parseLinkHeader(header).next);
}

export function totalFromHeader(header: string | null | undefined): number | null {
  if (header == null || header.trim() === '') return null;
  const n = Number(header.trim());
  return Number.isFinite(n) && n >= 0 ? n : null;
}

function retryAfterOf(h: Headers): number | null {
  const v = h.get('Retry-After');
  if (!v) return null;
  const n = Number(v);
  if (Number.isFinite(n)) return n;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : Math.max(0, Math.round((t - Date.now()) / 1000));
}

// ---------------------------------------------------------------------------------------------
// Requests

export type QueryValue = string | number | boolean | null | undefined | readonly string[];
export type Query = Record<string, QueryValue>;

/** Builds `?a=1&b=x,y`: arrays are comma-joined (the gateway's multi-value syntax); empty skipped. */
export function buildQuery(q: Query | undefined): string {
  if (!q) return '';
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v == null || v === '') continue;
    if (Array.isArray(v)) {
      if (v.length) sp.set(k, v.join(','));
    } else sp.set(k, String(v));
  }
  const s = sp.toString();
  return s ? `?${s}` : '';
}

export function apiUrl(path: string, query?: Query): string {
  return `${API_BASE}${path}${buildQuery(query)}`;
}

export interface RequestOptions {
  query?: Query;
  /** A JSON body (serialised here) — or a string/Blob sent as is with `contentType`. */
  json?: unknown;
  body?: BodyInit;
  contentType?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Tell the banner nothing (GET /api/health answers without a key: its 200 says nothing about the key). */
  quiet?: boolean;
}

export interface ApiResponse<T> {
  data: T;
  status: number;
  headers: Headers;
}

/** Reads a failed response into an ApiError (problem+json, or whatever came). */
export async function problemOf(res: Response): Promise<ApiError> {
  let text = '';
  try {
    text = await res.text();
  } catch {
    /* body lost */
  }
  let problem: Record<string, unknown> = {};
  try {
    const j: unknown = text ? JSON.parse(text) : null;
    if (j && typeof j === 'object' && !Array.isArray(j)) problem = j as Record<string, unknown>;
  } catch {
    /* not JSON */
  }
  if (!('title' in problem)) {
    problem = {
      ...problem,
      title: res.statusText || `HTTP ${res.status}`,
      detail: typeof problem.detail === 'string' ? problem.detail : text.slice(0, 300),
    };
  }
  return new ApiError(res.status, problem, retryAfterOf(res.headers));
}

/**
 * Whether a failed response came from something between us and the gateway rather than the
 * gateway (the dev proxy's 500/502/504 without a problem document when the gateway is down).
 */
function looksLikeProxyFailure(res: Response): boolean {
  if (![500, 502, 503, 504].includes(res.status)) return false;
  const ct = res.headers.get('Content-Type') || '';
  return !/json/i.test(ct);
}

/** The bottom of every call: fetch, auth header, errors, status events. */
export async function apiFetch(method: string, path: string, opts: RequestOptions = {}): Promise<Response> {
  const headers: Record<string, string> = {
    Accept: 'application/json, application/problem+json',
    ...authHeaders(),
    ...opts.headers,
  };
  let body: BodyInit | undefined = opts.body;
  if (opts.json !== undefined) {
    body = JSON.stringify(opts.json);
    headers['Content-Type'] = opts.contentType ?? 'application/json';
  } else if (opts.contentType) {
    headers['Content-Type'] = opts.contentType;
  }
  let res: Response;
  try {
    res = await fetch(apiUrl(path, opts.query), { method, headers, body, signal: opts.signal });
  } catch (e) {
    if (isAbort(e)) throw e;
    const err = new ApiUnreachable(e instanceof Error ? e.message : 'network error', e);
    if (!opts.quiet) emitStatus({ kind: 'unreachable', message: err.message });
    throw err;
  }
  if (res.ok) {
    if (!opts.quiet) emitStatus({ kind: 'ok' });
    return res;
  }
  if (looksLikeProxyFailure(res)) {
    const err = new ApiUnreachable(`no answer from the gateway (HTTP ${res.status})`);
    if (!opts.quiet) emitStatus({ kind: 'unreachable', message: err.message });
    throw err;
  }
  const err = await problemOf(res);
  if (!opts.quiet) {
    if (res.status === 401) emitStatus({ kind: 'unauthorized', message: err.detail || err.title });
    else emitStatus({ kind: 'ok' });
  }
  throw err;
}

export async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<ApiResponse<T>> {
  const res = await apiFetch(method, path, opts);
  let data: unknown = null;
  if (res.status !== 204 && method !== 'HEAD') {
    const text = await res.text();
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = text;
      }
    }
  }
  return { data: data as T, status: res.status, headers: res.headers };
}

/** A page of a list: an array body with X-Total-Count/Link, or `{items,total,next_cursor}`. */
export function pageOf<T>(data: unknown, headers: Headers): Page<T> {
  let items: T[] = [];
  let total = totalFromHeader(headers.get('X-Total-Count'));
  let next = nextCursorFromLink(headers.get('Link'));
  if (Array.isArray(data)) items = data as T[];
  else if (data && typeof data === 'object') {
    const o = data as Record<string, unknown>;
    if (Array.isArray(o.items)) items = o.items as T[];
    if (total == null && typeof o.total === 'number') total = o.total;
    if (next == null && typeof o.next_cursor === 'string' && o.next_cursor) next = o.next_cursor;
  }
  return { items, total, nextCursor: next };
}

export async function getPage<T>(path: string, query?: Query, signal?: AbortSignal): Promise<Page<T>> {
  const r = await request<unknown>('GET', path, { query, signal });
  return pageOf<T>(r.data, r.headers);
}

const enc = encodeURIComponent;

// ---------------------------------------------------------------------------------------------
// The routes

export const api = {
  /** Quiet: it answers without a key, so it tells the banner nothing (see RequestOptions.quiet). */
  health: (signal?: AbortSignal) => request<Health>('GET', '/health', { signal, quiet: true }).then((r) => r.data),

  // Prospects
  listProspects: (q: ProspectQuery, signal?: AbortSignal) =>
    getPage<Prospect>(
      '/prospects',
      {
        search: q.search?.trim() || undefined,
        industry: q.industry,
        status: q.status,
        limit: q.limit,
        cursor: q.cursor ?? undefined,
        sort: q.sort ?? undefined,
      },
      signal,
    ),
  getProspect: (id: string) => request<Prospect>('GET', `/prospects/${enc(id)}`).then((r) => r.data),
  createProspect: (p: ProspectInput) => request<Prospect>('POST', '/prospects', { json: p }).then((r) => r.data),
  patchProspect: (id: string, patch: ProspectPatch) =>
    request<Prospect>('PATCH', `/prospects/${enc(id)}`, {
      json: patch,
      contentType: 'application/merge-patch+json',
    }).then((r) => r.data),
  deleteProspect: (id: string) => request<null>('DELETE', `/prospects/${enc(id)}`).then(() => undefined),

  // Campaigns
  listCampaigns: (signal?: AbortSignal) => request<Campaign[]>('GET', '/campaigns', { signal }).then((r) => r.data ?? []),
  getCampaign: (id: string) => request<Campaign>('GET', `/campaigns/${enc(id)}`).then((r) => r.data),
  createCampaign: (c: CampaignInput) => request<Campaign>('POST', '/campaigns', { json: c }).then((r) => r.data),

  // Runs and jobs
  runContactForms: (body: RunRequest, idempotencyKey?: string) =>
    request<RunResponse>('POST', '/automation/contact-forms/run', {
      json: body,
      headers: idempotencyKey ? { 'Idempotency-Key': idempotencyKey } : undefined,
    }).then((r) => r.data),
  listJobs: (q: { status?: string; limit?: number; cursor?: string | null } = {}, signal?: AbortSignal) =>
    getPage<Job>('/jobs', { status: q.status, limit: q.limit, cursor: q.cursor ?? undefined }, signal),
  getJob: (id: string, signal?: AbortSignal) => request<Job>('GET', `/jobs/${enc(id)}`, { signal }).then((r) => r.data),
  getJobTasks: (
    id: string,
    q: { state?: string; limit?: number; cursor?: string | null } = {},
    signal?: AbortSignal,
  ) => getPage<Task>(`/jobs/${enc(id)}/tasks`, { state: q.state, limit: q.limit, cursor: q.cursor ?? undefined }, signal),
  cancelJob: (id: string) => request<Job>('POST', `/jobs/${enc(id)}/cancel`).then((r) => r.data),

  // LLM
  generate: (body: GenerateRequest, signal?: AbortSignal) =>
    request<GenerateResponse>('POST', '/llm/generate', { json: body, signal }).then((r) => r.data),

  // Workers and queues
  workers: (signal?: AbortSignal) => request<WorkersResponse>('GET', '/workers', { signal }).then((r) => r.data),
  queues: (signal?: AbortSignal) => request<QueuesResponse>('GET', '/queues', { signal }).then((r) => r.data),
  dead: (q: { limit?: number; cursor?: string | null } = {}, signal?: AbortSignal) =>
    request<DeadList>('GET', '/dead', { query: { limit: q.limit, cursor: q.cursor ?? undefined }, signal }).then(
      (r) => r.data,
    ),
  requeueTask: (taskId: string) =>
    request<{ task_id: string; state: string }>('POST', `/tasks/${enc(taskId)}/requeue`).then((r) => r.data),

  // Hand-offs
  listHandoffs: (q: { limit?: number; cursor?: string | null } = {}, signal?: AbortSignal) =>
    getPage<Handoff>('/handoffs', { limit: q.limit, cursor: q.cursor ?? undefined }, signal),
  completeHandoff: (id: string, note?: string) =>
    request<HandoffDone>('POST', `/handoffs/${enc(id)}/complete`, { json: note ? { note } : {} }).then((r) => r.data),

  // Suppressions
  listSuppressions: (
    q: { kind?: 'domain' | 'email'; limit?: number; cursor?: string | null } = {},
    signal?: AbortSignal,
  ) => getPage<Suppression>('/suppressions', { kind: q.kind, limit: q.limit, cursor: q.cursor ?? undefined }, signal),
  addSuppressions: (input: SuppressionInput) =>
    request<SuppressionResult>('POST', '/suppressions', { json: input }).then((r) => r.data),
  addSuppressionsCsv: (csv: string | Blob) =>
    request<SuppressionResult>('POST', '/suppressions', { body: csv, contentType: 'text/csv' }).then((r) => r.data),
  deleteSuppression: (value: string, kind?: 'domain' | 'email') =>
    request<null>('DELETE', '/suppressions', { query: { value, kind } }).then(() => undefined),

  // MCP
  mcpTools: (signal?: AbortSignal) => request<McpToolsResponse>('GET', '/mcp/tools', { signal }).then((r) => r.data),
  mcpEnrich: (domain: string) =>
    request<McpEnrichResponse>('POST', '/mcp/enrich', { json: { domain } }).then((r) => r.data),
};

// ---------------------------------------------------------------------------------------------
// Import with upload progress (XMLHttpRequest: fetch has no upload progress)

export type ImportContentType = 'text/csv' | 'application/x-ndjson';

/** The Content-Type for a picked file, by its name (then its type); null when not importable. */
export function importContentType(file: { name: string; type?: string }): ImportContentType | null {
  const n = file.name.toLowerCase();
  if (n.endsWith('.csv')) return 'text/csv';
  if (n.endsWith('.jsonl') || n.endsWith('.ndjson')) return 'application/x-ndjson';
  const t = (file.type || '').toLowerCase();
  if (t === 'text/csv') return 'text/csv';
  if (t === 'application/x-ndjson' || t === 'application/jsonl') return 'application/x-ndjson';
  return null;
}

/** Checks an import answer (a 200 body, or the counts of a 503 that cut it short). */
export function parseImportResult(data: unknown): ImportResult {
  if (!data || typeof data !== 'object') throw new Error('the import answer is not an object');
  const o = data as Record<string, unknown>;
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.floor(v) : 0);
  const rejected: ImportResult['rejected'] = [];
  if (Array.isArray(o.rejected)) {
    for (const r of o.rejected) {
      if (!r || typeof r !== 'object') continue;
      const x = r as Record<string, unknown>;
      const line = num(x.line);
      const error =
        typeof x.error === 'string' ? x.error : typeof x.detail === 'string' ? x.detail : 'rejected';
      rejected.push({ line, error });
    }
  }
  rejected.sort((a, b) => a.line - b.line);
  const rejected_total = typeof o.rejected_total === 'number' ? num(o.rejected_total) : rejected.length;
  return { imported: num(o.imported), updated: num(o.updated), rejected_total, rejected };
}

export interface UploadProgress {
  loaded: number;
  total: number;
}

export interface ImportHandle {
  promise: Promise<ImportResult>;
  abort: () => void;
}

/** Minimal XHR surface, so tests can hand in a fake. */
export type XhrFactory = () => XMLHttpRequest;

export function uploadImport(
  file: Blob & { name?: string },
  onProgress: (p: UploadProgress) => void,
  opts: { contentType?: ImportContentType; xhr?: XhrFactory } = {},
): ImportHandle {
  const xhr = (opts.xhr ?? (() => new XMLHttpRequest()))();
  const ct = opts.contentType ?? importContentType({ name: file.name ?? '', type: file.type });
  const promise = new Promise<ImportResult>((resolve, reject) => {
    if (!ct) {
      reject(new Error('pick a .csv, .jsonl or .ndjson file'));
      return;
    }
    xhr.open('POST', apiUrl('/prospects/import'));
    xhr.setRequestHeader('Content-Type', ct);
    xhr.setRequestHeader('Accept', 'application/json, application/problem+json');
    const auth = authHeaders().Authorization;
    if (auth) xhr.setRequestHeader('Authorization', auth);
    xhr.upload.onprogress = (e: ProgressEvent) => {
      onProgress({ loaded: e.loaded, total: e.lengthComputable ? e.total : file.size });
    };
    xhr.upload.onload = () => onProgress({ loaded: file.size, total: file.size });
    xhr.onerror = () => {
      const err = new ApiUnreachable('the upload failed (network error)');
      emitStatus({ kind: 'unreachable', message: err.message });
      reject(err);
    };
    xhr.onabort = () => reject(new DOMException('the import was cancelled', 'AbortError'));
    xhr.onload = () => {
      let data: unknown = null;
      try {
        data = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        data = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        emitStatus({ kind: 'ok' });
        try {
          resolve(parseImportResult(data));
        } catch (e) {
          reject(e);
        }
        return;
      }
      const ctype = xhr.getResponseHeader('Content-Type') || '';
      if ([500, 502, 503, 504].includes(xhr.status) && !/json/i.test(ctype)) {
        const err = new ApiUnreachable(`no answer from the gateway (HTTP ${xhr.status})`);
        emitStatus({ kind: 'unreachable', message: err.message });
        reject(err);
        return;
      }
      const problem =
        data && typeof data === 'object' && !Array.isArray(data)
          ? (data as Record<string, unknown>)
          : { title: xhr.statusText || `HTTP ${xhr.status}`, detail: xhr.responseText.slice(0, 300) };
      const ra = Number(xhr.getResponseHeader('Retry-After'));
      const err = new ApiError(xhr.status, problem, Number.isFinite(ra) && ra > 0 ? ra : null);
      if (xhr.status === 401) emitStatus({ kind: 'unauthorized', message: err.detail || err.title });
      reject(err);
    };
    xhr.send(file);
  });
  return { promise, abort: () => xhr.abort() };
}
