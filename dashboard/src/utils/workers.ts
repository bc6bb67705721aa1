/*
 * GET /api/workers, read for people: each live worker's load (`held` of `capacity` from its status
 * record, whose fields are strings; else the gateway's own `load` = capacity − credit), its
 * service's totals, and how long ago things happened.
 */
import type { WorkersResponse } from '../types';

export interface WorkerRow {
  id: string;
  service: string;
  version: string | null;
  held: number;
  capacity: number;
  /** held / capacity, 0..1 */
  load: number;
  startedMs: number | null;
  seenMs: number | null;
  gateway: string | null;
  breaker: string | null;
  /** the daemon's other status fields worth showing (form_outcomes, mcp_enrich, ...) */
  extra: [string, string][];
}

export interface ServiceRow {
  service: string;
  workers: number;
  held: number;
  capacity: number;
  load: number;
}

export function num(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return null;
}

const SHOWN_ELSEWHERE = new Set(['service', 'version', 'capacity', 'held', 'started_ms', 'updated_ms', 'breaker_state']);

export function workerRows(res: WorkersResponse | undefined): WorkerRow[] {
  const out: WorkerRow[] = [];
  for (const w of res?.workers ?? []) {
    const st = (w.status ?? {}) as Record<string, unknown>;
    const capacity = num(st.capacity) ?? num(w.capacity) ?? 0;
    const held = num(st.held) ?? num(w.load) ?? 0;
    const extra: [string, string][] = [];
    for (const [k, v] of Object.entries(st)) {
      if (SHOWN_ELSEWHERE.has(k) || v == null || v === '') continue;
      extra.push([k, typeof v === 'string' ? v : JSON.stringify(v)]);
    }
    extra.sort((a, b) => a[0].localeCompare(b[0]));
    out.push({
      id: String(w.id ?? '?'),
      service: String(w.service ?? st.service ?? '?'),
      version: typeof st.version === 'string' ? st.version : null,
      held,
      capacity,
      load: capacity > 0 ? Math.min(1, held / capacity) : 0,
      startedMs: num(st.started_ms),
      seenMs: num(w.last_seen_ms) ?? num(st.updated_ms),
      gateway: typeof w.gateway === 'string' ? w.gateway : null,
      breaker: typeof st.breaker_state === 'string' ? st.breaker_state : null,
      extra,
    });
  }
  out.sort((a, b) => a.service.localeCompare(b.service) || a.id.localeCompare(b.id));
  return out;
}

export function serviceRows(res: WorkersResponse | undefined, rows = workerRows(res)): ServiceRow[] {
  const by = new Map<string, ServiceRow>();
  for (const [service, s] of Object.entries(res?.services ?? {})) {
    by.set(service, { service, workers: num(s.workers) ?? 0, held: 0, capacity: num(s.capacity) ?? 0, load: 0 });
  }
  for (const r of rows) {
    let s = by.get(r.service);
    if (!s) by.set(r.service, (s = { service: r.service, workers: 0, held: 0, capacity: 0, load: 0 }));
    s.held += r.held;
    if (!res?.services?.[r.service]) {
      s.workers++;
      s.capacity += r.capacity;
    }
  }
  for (const s of by.values()) s.load = s.capacity > 0 ? Math.min(1, s.held / s.capacity) : 0;
  // the pipeline's order, then any other
  const order = ['mcp', 'llm', 'form'];
  return [...by.values()].sort((a, b) => {
    const ia = order.indexOf(a.service);
    const ib = order.indexOf(b.service);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.service.localeCompare(b.service);
  });
}

/** 1234 ms → "1 s", 90,000 → "1 min 30 s", 7,500,000 → "2 h 5 min", days too. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

/** "5 s ago" for an epoch-ms time; "—" for none. */
export function ago(ms: number | null, now = Date.now()): string {
  if (ms == null) return '—';
  return `${formatDuration(Math.max(0, now - ms))} ago`;
}

function spell(x: unknown): string {
  if (x == null) return '—';
  if (Array.isArray(x)) return x.map(spell).join('; ');
  if (typeof x === 'object') {
    const o = x as Record<string, unknown>;
    const name = typeof o.name === 'string' ? `${o.name}: ` : '';
    return (
      name +
      Object.entries(o)
        .filter(([k, v]) => !(k === 'name' && name) && (typeof v !== 'object' || v === null))
        .map(([k, v]) => `${k.replace(/_/g, ' ')} ${String(v)}`)
        .join(', ')
    );
  }
  return String(x);
}

/** A status field holding JSON ({"succeeded":38,...}, [{"name":"a",...}]) spelled out; else the
 * text as it is. */
export function formatStatusValue(v: string): string {
  if (v.startsWith('{') || v.startsWith('[')) {
    try {
      const o = JSON.parse(v) as unknown;
      if (o && typeof o === 'object' && !Array.isArray(o)) {
        return Object.entries(o as Record<string, unknown>)
          .map(([k, x]) => `${k.replace(/_/g, ' ')} ${typeof x === 'object' && x !== null ? spell(x) : String(x)}`)
          .join(' · ');
      }
      return spell(o);
    } catch {
      /* not JSON after all */
    }
  }
  return v;
}

/** A dead letter as GET /api/dead gives it ({task_id, job_id, stage, attempts, reason, at, state};
 * the draft shape's service, error and updated are read too). */
export interface DeadRowData {
  task_id: string;
  job_id: string;
  service: string | null;
  stage: string | null;
  /** the task's state now (null: its job expired); only a failed one can be requeued */
  state: string | null;
  error: string | null;
  attempts: number | null;
  at: string | null;
}

export function deadRow(item: unknown): DeadRowData {
  const o = (item && typeof item === 'object' ? item : {}) as Record<string, unknown>;
  const s = (k: string): string | null => (typeof o[k] === 'string' && o[k] !== '' ? (o[k] as string) : null);
  const taskId = s('task_id') ?? '';
  // "<job id>-<task number>": the job id is what precedes the last "-"
  const jobId = s('job_id') ?? (taskId.includes('-') ? taskId.slice(0, taskId.lastIndexOf('-')) : '');
  return {
    task_id: taskId,
    job_id: jobId,
    service: s('service'),
    stage: s('stage'),
    state: s('state'),
    error: s('reason') ?? s('error'),
    attempts: num(o.attempts),
    at: s('at') ?? s('updated'),
  };
}

/** Whether POST /api/tasks/{id}/requeue can take it: a task failed now (a requeued one's entry
 * stays in the log with its new state; a null state is an expired job). */
export function canRequeue(d: DeadRowData): boolean {
  return d.state === 'failed';
}
