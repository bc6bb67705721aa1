/*
 * A job's live view: the job (from the SSE `snapshot` and GET /api/jobs/{id}), its counts by
 * state, and one row per task, kept up to date by the SSE `task`, `job` and `end` events
 * (gateway/gw_events.c):
 *
 *   event: snapshot  data: the job as GET /api/jobs/{id} renders it
 *   id: 1765000000000-0.3
 *   event: task      data: {"job":"j-..","task":"000042","stage":"compose","state":"running",
 *                           "attempt":1,"worker":"llm-1"}      (or "error"/"by" instead of worker)
 *   event: job       data: {"job":"j-..","state":"running"}     (or "queued" with "total")
 *   event: end       data: {}
 *
 * Built for 10,000 targets (some 60,000 events: a task moves queued → running → queued ... per
 * stage): every event costs O(1) (a typed array of states indexed by task number, a Map of rows
 * by task number), and the store is mutated in place; listeners are told once per applied batch
 * (see eventBatcher.ts), so React renders once per animation frame whatever the event rate.
 *
 * A task event does not say which state the task left. The store knows it for every task it has
 * seen (an event, a loaded page of GET /api/jobs/{id}/tasks, or a snapshot whose counts put every
 * task in one state, as when a job has just been created); for another it guesses from the
 * engine's moves (running ← queued, queued ← running, cancelled ← queued, others ← running) and
 * the counts are set to the server's again by each GET /api/jobs/{id} (reconcile()).
 */

export const TASK_STATES = [
  'queued',
  'running',
  'succeeded',
  'failed',
  'retry_wait',
  'captcha_required',
  'skipped',
  'uncertain',
  'cancelled',
] as const;
export type TaskState = (typeof TASK_STATES)[number];

/** The states a task does not leave (what `progress` counts). */
export const TERMINAL_STATES: ReadonlySet<string> = new Set([
  'succeeded',
  'failed',
  'captcha_required',
  'skipped',
  'uncertain',
  'cancelled',
]);

export const JOB_FINAL_STATUSES: ReadonlySet<string> = new Set(['completed', 'cancelled']);

/** The job as GET /api/jobs/{id} (and the SSE snapshot) renders it. */
export interface JobSummary {
  id: string;
  status: string | null;
  campaign_id?: string | null;
  total: number;
  counts: Partial<Record<string, number>>;
  progress?: number;
  stages?: string[];
  usage?: { prompt_tokens?: number; completion_tokens?: number };
  created?: string | null;
  started?: string | null;
  updated?: string | null;
  finished?: string | null;
  options?: Record<string, unknown>;
}

/** A task as GET /api/jobs/{id}/tasks renders it. */
export interface TaskDetail {
  id: string;
  target?: string | null;
  stage?: string | null;
  state?: string | null;
  attempt?: number;
  worker?: string | null;
  error?: string | null;
  updated?: string | null;
  handoff?: { status?: string; completed_at?: string | null; note?: string | null };
  results?: Record<string, unknown>;
}

/** One row of the list: what events say, plus the last loaded detail. Replaced (never mutated)
 * when it changes, so that a memoised row component re-renders only when its own task did. */
export interface TaskRow {
  n: number; // the task's number, 1..total
  id: string; // "000042"
  target: string | null;
  stage: string | null;
  state: string | null;
  attempt: number;
  worker: string | null;
  error: string | null;
  /** the store's event counter when an event last changed this row (0: never) */
  seq: number;
  /** the task as last loaded (results: outcome, evidence, message) */
  detail: TaskDetail | null;
}

/** One SSE event as the stream reader hands it over. */
export interface JobStreamEvent {
  event: string;
  data: string;
  id?: string | null;
}

export const TASK_ID_DIGITS = 6;

/** "000042" → 42; NaN when it is not a task number. */
export function taskNumber(id: string): number {
  if (!/^\d+$/.test(id)) return NaN;
  return Number(id);
}

/** 42 → "000042" (the engine's TASK_ID_FMT). */
export function taskId(n: number): string {
  const s = String(n);
  return s.length >= TASK_ID_DIGITS ? s : '0'.repeat(TASK_ID_DIGITS - s.length) + s;
}

const STATE_CODE = new Map<string, number>(TASK_STATES.map((s, i) => [s, i + 1]));

function emptyCounts(): Record<string, number> {
  const c: Record<string, number> = {};
  for (const s of TASK_STATES) c[s] = 0;
  return c;
}

/** What a task most likely left for `to`, when the store never saw it (see the header). */
export function guessPreviousState(to: string): string {
  if (to === 'running') return 'queued';
  if (to === 'cancelled') return 'queued';
  return 'running';
}

export function jobProgress(counts: Partial<Record<string, number>>, total: number): number {
  if (!total) return 1;
  let done = 0;
  for (const s of TERMINAL_STATES) done += counts[s] ?? 0;
  return Math.min(1, done / total);
}

export type Listener = () => void;

export class JobStore {
  readonly jobId: string;
  job: JobSummary | null = null;
  status: string | null = null;
  total = 0;
  counts: Record<string, number> = emptyCounts();
  /** state code (TASK_STATES index + 1; 0 unknown) by task number */
  states: Uint8Array = new Uint8Array(1);
  rows = new Map<number, TaskRow>();
  /** events applied so far (also the row's `seq`) */
  eventSeq = 0;
  lastEventId: string | null = null;
  /** the stream said `end`, or a job event said completed/cancelled */
  ended = false;
  /** bumped once per applied batch: what a React store subscription compares */
  version = 0;
  /** task numbers changed by events since takeChanged() */
  private changed = new Set<number>();
  private listeners = new Set<Listener>();

  constructor(jobId: string) {
    this.jobId = jobId;
  }

  subscribe = (fn: Listener): (() => void) => {
    this.listeners.add(fn);
    return () => {
      this.listeners.delete(fn);
    };
  };

  getVersion = (): number => this.version;

  /** Tells the listeners once (after a batch, a snapshot, a page of tasks). */
  notify(): void {
    this.version++;
    for (const fn of this.listeners) fn();
  }

  get progress(): number {
    return jobProgress(this.counts, this.total);
  }

  private setTotal(total: number): void {
    if (total === this.total && this.states.length === total + 1) return;
    const next = new Uint8Array(total + 1);
    next.set(this.states.subarray(0, Math.min(this.states.length, total + 1)));
    this.states = next;
    this.total = total;
  }

  /** The state of task n as far as the store knows, or null. */
  stateOf(n: number): string | null {
    const code = this.states[n] ?? 0;
    return code ? TASK_STATES[code - 1] : null;
  }

  /** The row of task n (a bare one, state from `states`, when nothing else is known). */
  rowAt(n: number): TaskRow {
    const r = this.rows.get(n);
    if (r) return r;
    return {
      n,
      id: taskId(n),
      target: null,
      stage: null,
      state: this.stateOf(n),
      attempt: 0,
      worker: null,
      error: null,
      seq: 0,
      detail: null,
    };
  }

  /** The job from the snapshot or GET /api/jobs/{id}: its counts are the server's. */
  reconcile(job: JobSummary): void {
    this.job = job;
    this.status = job.status;
    this.setTotal(Math.max(0, Math.floor(job.total || 0)));
    const c = emptyCounts();
    for (const [k, v] of Object.entries(job.counts || {})) c[k] = typeof v === 'number' ? v : 0;
    this.counts = c;
    if (job.status && JOB_FINAL_STATUSES.has(job.status)) this.ended = true;
    // every task in one state (a job just created, or one that is over with one outcome): so
    // is each task the store has not seen
    let only: string | null = null;
    let sum = 0;
    for (const s of TASK_STATES) {
      if (c[s] > 0) {
        only = only === null ? s : '';
        sum += c[s];
      }
    }
    if (only && sum === this.total) {
      const code = STATE_CODE.get(only)!;
      const st = this.states;
      for (let i = 1; i <= this.total; i++) if (!st[i]) st[i] = code;
    }
  }

  applySnapshot(job: JobSummary): void {
    this.reconcile(job);
  }

  /** Applies one event; the caller notifies (applyBatch does). */
  apply(ev: JobStreamEvent): void {
    if (ev.id) this.lastEventId = ev.id;
    let data: Record<string, unknown>;
    switch (ev.event) {
      case 'snapshot':
        try {
          this.applySnapshot(JSON.parse(ev.data) as JobSummary);
        } catch {
          /* a broken snapshot: the next GET of the job repairs the view */
        }
        return;
      case 'end':
        this.ended = true;
        return;
      case 'task':
      case 'job':
        try {
          data = JSON.parse(ev.data) as Record<string, unknown>;
        } catch {
          return;
        }
        break;
      default:
        return; // unknown events are ignored (forward compatible)
    }
    if (typeof data.job === 'string' && data.job !== this.jobId) return;
    if (ev.event === 'job') {
      const state = typeof data.state === 'string' ? data.state : null;
      if (state) {
        this.status = state;
        if (this.job) this.job = { ...this.job, status: state };
        if (JOB_FINAL_STATUSES.has(state)) this.ended = true;
      }
      const total = Number(data.total);
      if (Number.isFinite(total) && total > this.total) this.setTotal(total);
      return;
    }
    this.applyTask(data);
  }

  private applyTask(d: Record<string, unknown>): void {
    const n = typeof d.task === 'string' ? taskNumber(d.task) : NaN;
    const to = typeof d.state === 'string' ? d.state : null;
    if (!Number.isFinite(n) || n < 1 || !to) return;
    if (n > this.total) this.setTotal(n);
    const code = STATE_CODE.get(to) ?? 0;
    const prevCode = this.states[n];
    const from = prevCode ? TASK_STATES[prevCode - 1] : guessPreviousState(to);
    if (from !== to) {
      const c = this.counts;
      if ((c[from] ?? 0) > 0) c[from] -= 1;
      c[to] = (c[to] ?? 0) + 1;
    }
    this.states[n] = code;
    const seq = ++this.eventSeq;
    const old = this.rows.get(n);
    const attempt = Number(d.attempt);
    const row: TaskRow = {
      n,
      id: old?.id ?? taskId(n),
      target: old?.target ?? null,
      stage: typeof d.stage === 'string' ? d.stage : (old?.stage ?? null),
      state: to,
      attempt: Number.isFinite(attempt) ? attempt : (old?.attempt ?? 0),
      worker: typeof d.worker === 'string' ? d.worker : (old?.worker ?? null),
      // an error belongs to the attempt that reported it; a move to running clears it
      error: typeof d.error === 'string' ? d.error : to === 'running' ? null : (old?.error ?? null),
      seq,
      detail: old?.detail ?? null,
    };
    this.rows.set(n, row);
    this.changed.add(n);
  }

  /** Applies a batch of events and tells the listeners once. */
  applyBatch(events: readonly JobStreamEvent[]): void {
    if (!events.length) return;
    for (let i = 0; i < events.length; i++) this.apply(events[i]);
    this.notify();
  }

  /**
   * Merges tasks loaded from GET /api/jobs/{id}/tasks. `sinceSeq` is eventSeq when the request
   * was sent: a row an event changed after that keeps the event's stage, state and attempt (the
   * page is older), and takes the page's detail (target, results).
   */
  mergeTasks(tasks: readonly TaskDetail[], sinceSeq: number, notify = true): void {
    for (const t of tasks) {
      const n = taskNumber(t.id);
      if (!Number.isFinite(n) || n < 1) continue;
      if (n > this.total) this.setTotal(n);
      const old = this.rows.get(n);
      const newer = old && old.seq > sinceSeq;
      let state = t.state ?? null;
      if (newer) {
        state = old.state;
      } else if (state) {
        const prevCode = this.states[n];
        const code = STATE_CODE.get(state) ?? 0;
        // a state the store had from events and the page contradicts (an event missed):
        // the page is newer, so move the count too; an unknown one was counted already
        if (prevCode && prevCode !== code) {
          const from = TASK_STATES[prevCode - 1];
          if ((this.counts[from] ?? 0) > 0) this.counts[from] -= 1;
          this.counts[state] = (this.counts[state] ?? 0) + 1;
        }
        this.states[n] = code;
      }
      this.rows.set(n, {
        n,
        id: t.id,
        target: t.target ?? null,
        stage: newer ? old.stage : (t.stage ?? null),
        state,
        attempt: newer ? old.attempt : (t.attempt ?? 0),
        worker: newer ? old.worker : (t.worker ?? null),
        error: newer ? old.error : (t.error ?? null),
        seq: old?.seq ?? 0,
        detail: t,
      });
    }
    if (notify) this.notify();
  }

  /** The task numbers events changed since the last call (to refresh their loaded detail). */
  takeChanged(): Set<number> {
    const c = this.changed;
    this.changed = new Set();
    return c;
  }
}
