import { describe, expect, it, vi } from 'vitest';
import { EventBatcher, type Scheduler } from './eventBatcher';
import {
  JobStore,
  TASK_STATES,
  guessPreviousState,
  jobProgress,
  taskId,
  taskNumber,
  type JobStreamEvent,
  type JobSummary,
} from './jobState';

const JOB = 'j-01test';

function job(total: number, counts: Partial<Record<string, number>>, status = 'running'): JobSummary {
  return { id: JOB, status, total, counts, progress: 0, stages: ['enrich', 'compose', 'submit'] };
}

function snapshot(j: JobSummary): JobStreamEvent {
  return { event: 'snapshot', data: JSON.stringify(j) };
}

let idc = 0;
function taskEv(n: number, stage: string, state: string, attempt = 1, extra: Record<string, string> = {}): JobStreamEvent {
  idc++;
  return {
    event: 'task',
    id: `1765000000000-${idc}`,
    data: JSON.stringify({ job: JOB, task: taskId(n), stage, state, attempt, ...extra }),
  };
}

/** The engine's moves for one task through three stages (6 events + the last). */
function lifecycle(n: number, last = 'succeeded'): JobStreamEvent[] {
  return [
    taskEv(n, 'enrich', 'running'),
    taskEv(n, 'compose', 'queued'),
    taskEv(n, 'compose', 'running'),
    taskEv(n, 'submit', 'queued'),
    taskEv(n, 'submit', 'running'),
    taskEv(n, 'submit', last),
  ];
}

function sum(c: Record<string, number>) {
  return TASK_STATES.reduce((a, s) => a + c[s], 0);
}

describe('task ids', () => {
  it('converts both ways', () => {
    expect(taskId(42)).toBe('000042');
    expect(taskId(1234567)).toBe('1234567');
    expect(taskNumber('000042')).toBe(42);
    expect(taskNumber('x1')).toBeNaN();
  });
});

describe('JobStore', () => {
  it('applies a snapshot, task and job events, and end', () => {
    const s = new JobStore(JOB);
    const fn = vi.fn();
    s.subscribe(fn);
    s.applyBatch([snapshot(job(3, { queued: 3 }, 'queued'))]);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(s.total).toBe(3);
    expect(s.stateOf(2)).toBe('queued'); // every task in one state: known
    s.applyBatch([
      { event: 'job', data: JSON.stringify({ job: JOB, state: 'running' }) },
      taskEv(1, 'enrich', 'running', 1, { worker: 'mcp-1' }),
      taskEv(2, 'enrich', 'running'),
    ]);
    expect(fn).toHaveBeenCalledTimes(2);
    expect(s.status).toBe('running');
    expect(s.counts.queued).toBe(1);
    expect(s.counts.running).toBe(2);
    expect(s.rowAt(1).worker).toBe('mcp-1');
    expect(s.rowAt(1).stage).toBe('enrich');
    expect(s.lastEventId).toMatch(/^1765000000000-/);
    s.applyBatch([taskEv(1, 'enrich', 'retry_wait', 1, { error: 'timeout' })]);
    expect(s.rowAt(1).error).toBe('timeout');
    expect(s.counts.retry_wait).toBe(1);
    s.applyBatch([taskEv(1, 'enrich', 'running', 2)]);
    expect(s.rowAt(1).error).toBeNull();
    expect(s.rowAt(1).attempt).toBe(2);
    s.applyBatch([
      taskEv(1, 'submit', 'succeeded'),
      taskEv(2, 'submit', 'failed', 3, { error: 'http 500' }),
      taskEv(3, 'submit', 'cancelled'),
      { event: 'job', data: JSON.stringify({ job: JOB, state: 'completed' }) },
      { event: 'end', data: '{}' },
    ]);
    expect(s.counts).toMatchObject({ queued: 0, running: 0, succeeded: 1, failed: 1, cancelled: 1 });
    expect(s.progress).toBe(1);
    expect(s.ended).toBe(true);
    expect(s.status).toBe('completed');
  });

  it('ignores other jobs, unknown events and broken data', () => {
    const s = new JobStore(JOB);
    s.applyBatch([snapshot(job(2, { queued: 2 }))]);
    s.applyBatch([
      { event: 'task', data: JSON.stringify({ job: 'j-other', task: '000001', stage: 'x', state: 'running' }) },
      { event: 'ping', data: '{}' },
      { event: 'task', data: '{not json' },
      { event: 'task', data: JSON.stringify({ job: JOB, task: 'abc', state: 'running' }) },
    ]);
    expect(s.counts.queued).toBe(2);
    expect(s.counts.running).toBe(0);
  });

  it('guesses the state an unseen task left, and reconcile() puts the server counts back', () => {
    expect(guessPreviousState('running')).toBe('queued');
    expect(guessPreviousState('succeeded')).toBe('running');
    const s = new JobStore(JOB);
    // mixed counts: the store cannot know each task's state
    s.applyBatch([snapshot(job(4, { queued: 2, running: 2 }))]);
    expect(s.stateOf(1)).toBeNull();
    s.applyBatch([taskEv(3, 'submit', 'succeeded'), taskEv(1, 'enrich', 'running')]);
    expect(s.counts).toMatchObject({ queued: 1, running: 2, succeeded: 1 });
    expect(sum(s.counts)).toBe(4);
    s.reconcile(job(4, { queued: 1, running: 1, succeeded: 2 }));
    expect(s.counts).toMatchObject({ queued: 1, running: 1, succeeded: 2 });
    // now known: task 3 stays succeeded, no double move
    s.applyBatch([taskEv(3, 'submit', 'succeeded')]);
    expect(s.counts.succeeded).toBe(2);
  });

  it('merges a page of tasks without undoing newer events', () => {
    const s = new JobStore(JOB);
    s.applyBatch([snapshot(job(3, { queued: 3 }))]);
    const since = s.eventSeq;
    s.applyBatch([taskEv(1, 'compose', 'running')]); // after the page was asked for
    s.mergeTasks(
      [
        { id: '000001', target: 'https://a.example/', stage: 'enrich', state: 'queued', attempt: 0 },
        {
          id: '000002',
          target: 'https://b.example/',
          stage: 'submit',
          state: 'succeeded',
          attempt: 1,
          results: { submit: { outcome: 'dry_run' } },
        },
      ],
      since,
    );
    const r1 = s.rowAt(1);
    expect(r1.state).toBe('running'); // the event is newer than the page
    expect(r1.stage).toBe('compose');
    expect(r1.target).toBe('https://a.example/');
    const r2 = s.rowAt(2);
    expect(r2.state).toBe('succeeded');
    expect(r2.detail?.results).toEqual({ submit: { outcome: 'dry_run' } });
    // task 2 was "queued" (every task was) and the page says succeeded: the count moves
    expect(s.counts).toMatchObject({ queued: 1, running: 1, succeeded: 1 });
    // the event for that move arriving late changes nothing more
    s.applyBatch([taskEv(2, 'submit', 'succeeded')]);
    expect(s.counts).toMatchObject({ queued: 1, running: 1, succeeded: 1 });
  });

  it('replaces only the rows that changed (memoised rows stay the same object)', () => {
    const s = new JobStore(JOB);
    s.applyBatch([snapshot(job(3, { queued: 3 }))]);
    s.applyBatch([taskEv(1, 'enrich', 'running'), taskEv(2, 'enrich', 'running')]);
    const r2 = s.rowAt(2);
    s.applyBatch([taskEv(1, 'compose', 'queued')]);
    expect(s.rowAt(2)).toBe(r2);
    expect([...s.takeChanged()].sort()).toEqual([1, 2]);
    expect(s.takeChanged().size).toBe(0);
  });

  it('follows 10,000 targets (60,000 events) in frame-sized batches, O(1) per event', () => {
    const N = 10_000;
    const s = new JobStore(JOB);
    let renders = 0;
    s.subscribe(() => renders++);
    s.applyBatch([snapshot(job(N, { queued: N }, 'queued'))]);
    // interleave the tasks as the workers would: every task's stage runs before the next stage
    const all: JobStreamEvent[] = [];
    const per = Array.from({ length: N }, (_, i) => lifecycle(i + 1, i % 10 === 0 ? 'failed' : 'succeeded'));
    for (let step = 0; step < 6; step++) for (let i = 0; i < N; i++) all.push(per[i][step]);
    all.push({ event: 'job', data: JSON.stringify({ job: JOB, state: 'completed' }) });
    all.push({ event: 'end', data: '{}' });
    expect(all.length).toBe(60_002);

    // a fake frame clock: the batcher flushes when the "frame" runs
    const frames: (() => void)[] = [];
    const sched: Scheduler = {
      raf: (cb) => frames.push(cb),
      cancelRaf: () => {},
      setTimeout: () => 0,
      clearTimeout: () => {},
    };
    const batcher = new EventBatcher<JobStreamEvent>((b) => s.applyBatch(b), 200, sched);
    const t0 = performance.now();
    const perFrame = 1500; // events arriving between two frames
    let midway = -1;
    for (let i = 0; i < all.length; i++) {
      batcher.push(all[i]);
      if ((i + 1) % perFrame === 0) {
        frames.splice(0).forEach((f) => f());
        if (midway < 0 && i > all.length / 2) midway = s.progress;
      }
    }
    frames.splice(0).forEach((f) => f());
    batcher.close();
    const ms = performance.now() - t0;

    expect(s.counts.succeeded).toBe(9000);
    expect(s.counts.failed).toBe(1000);
    expect(s.counts.queued + s.counts.running).toBe(0);
    expect(sum(s.counts)).toBe(N);
    expect(s.progress).toBe(1);
    expect(midway).toBeGreaterThanOrEqual(0);
    expect(midway).toBeLessThan(1);
    expect(s.ended).toBe(true);
    expect(s.rows.size).toBe(N);
    // one notification per frame, not per event
    expect(renders).toBeLessThanOrEqual(Math.ceil(all.length / perFrame) + 3);
    expect(batcher.flushes).toBe(renders - 1);
    // generous bound for a slow shared CI core; it takes some tens of ms
    expect(ms).toBeLessThan(3000);
  });
});

describe('jobProgress', () => {
  it('counts terminal states only', () => {
    expect(jobProgress({ succeeded: 1, failed: 1, running: 2 }, 4)).toBe(0.5);
    expect(jobProgress({ retry_wait: 4 }, 4)).toBe(0);
    expect(jobProgress({}, 0)).toBe(1);
  });
});
