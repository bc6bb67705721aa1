import { memo, useCallback, useEffect, useRef, useState } from 'react';
import { TASK_PAGE, useJobStream, type StreamStatus } from '../../hooks/useJobStream';
import { linkClick } from '../../hooks/useRoute';
import { api, ApiError, errorMessage, isAbort } from '../../services/api';
import { TASK_STATES, TERMINAL_STATES, taskNumber, type JobStore, type TaskDetail, type TaskRow } from '../../utils/jobState';
import { summarizeTask } from '../../utils/taskSummary';
import { cn, formatNumber, formatTime } from '../../utils/utils';
import Badge from '../UI/Badge';
import ErrorMessage from '../UI/ErrorMessage';
import PageHeader from '../UI/PageHeader';
import ProgressBar from '../UI/ProgressBar';
import Spinner from '../UI/Spinner';
import VirtualList from '../UI/VirtualList';
import JobTaskDetail from './JobTaskDetail';

const ROW_HEIGHT = 56;
const GRID =
  'grid grid-cols-[4.5rem_minmax(0,2fr)_5.5rem_8.5rem_minmax(0,2fr)] lg:grid-cols-[4.5rem_minmax(0,2fr)_5.5rem_8.5rem_minmax(0,2fr)_minmax(0,3fr)] items-center gap-3 px-3';

const STATE_LABEL: Record<string, string> = {
  queued: 'Queued',
  running: 'Running',
  retry_wait: 'Retry wait',
  succeeded: 'Succeeded',
  failed: 'Failed',
  captcha_required: 'CAPTCHA',
  skipped: 'Skipped',
  uncertain: 'Uncertain',
  cancelled: 'Cancelled',
};

/** states whose task error is worth a row's attention */
const PROBLEM_STATES = new Set(['failed', 'retry_wait', 'uncertain', 'skipped', 'captcha_required', 'cancelled']);

const CHIP_ORDER = ['queued', 'running', 'retry_wait', 'succeeded', 'failed', 'captcha_required', 'skipped', 'uncertain', 'cancelled'];

function StreamIndicator({ status }: { status: StreamStatus }) {
  const map: Record<StreamStatus, [string, string]> = {
    connecting: ['Connecting…', 'bg-slate-400'],
    live: ['Live', 'bg-emerald-500 animate-pulse'],
    reconnecting: ['Reconnecting…', 'bg-amber-500 animate-pulse'],
    ended: ['Finished', 'bg-slate-400'],
    failed: ['Not following', 'bg-rose-500'],
  };
  const [label, dot] = map[status];
  return (
    <span className="inline-flex items-center gap-1.5 text-xs text-slate-500 dark:text-slate-400" data-testid="job-stream" data-status={status}>
      <span className={cn('h-2 w-2 rounded-full', dot)} aria-hidden="true" />
      {label}
    </span>
  );
}

/** One target: memoised on its row object (the store replaces a row only when it changes). */
const TaskRowView = memo(
  function TaskRowView({ row, onOpen }: { row: TaskRow; onOpen: (n: number) => void }) {
    const s = summarizeTask(row.detail?.results, row.error);
    const loaded = row.detail != null;
    return (
      <div
        role="row"
        tabIndex={0}
        data-testid="job-task-row"
        data-task={row.id}
        data-state={row.state ?? ''}
        aria-label={`Task ${row.id}: ${row.target ?? ''} ${row.state ?? ''}`}
        onClick={() => onOpen(row.n)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' || e.key === ' ') {
            e.preventDefault();
            onOpen(row.n);
          }
        }}
        className={cn(
          GRID,
          'h-full cursor-pointer border-b border-slate-100 text-sm hover:bg-slate-50 focus:bg-indigo-50 focus:outline-none dark:border-slate-800 dark:hover:bg-slate-800/60 dark:focus:bg-indigo-950/40',
        )}
      >
        <span role="cell" className="font-mono text-xs text-slate-500">
          {row.id}
        </span>
        <span role="cell" className="min-w-0">
          <span className="block truncate" title={row.target ?? undefined}>
            {row.target ?? (loaded ? '—' : <span className="inline-block h-3 w-40 animate-pulse rounded bg-slate-200 dark:bg-slate-700" />)}
          </span>
          {s.enrich && <span className="block truncate text-xs text-slate-500">{s.enrich}</span>}
        </span>
        <span role="cell" className="truncate text-xs text-slate-600 dark:text-slate-300">
          {row.stage ?? '—'}
        </span>
        <span role="cell" className="flex items-center gap-1">
          <Badge value={row.state} />
          {row.attempt > 1 && <span className="text-xs text-slate-500" title="attempt">×{row.attempt}</span>}
        </span>
        <span role="cell" className="min-w-0">
          {s.outcome ? (
            <span className="block truncate">
              <Badge value={s.outcome} className="mr-1" />
              <span className="text-xs text-slate-600 dark:text-slate-300" title={s.detail ?? undefined}>
                {s.reason}
                {s.reason && s.detail ? ': ' : ''}
                {s.detail}
              </span>
            </span>
          ) : row.error && PROBLEM_STATES.has(row.state ?? '') ? (
            <span className="block truncate text-xs text-rose-700 dark:text-rose-300" title={row.error}>
              {row.error}
            </span>
          ) : (
            <span className="text-xs text-slate-400">—</span>
          )}
          {s.evidence && (
            <span className="block truncate text-xs text-slate-500" title={s.evidence}>
              {s.evidence}
            </span>
          )}
        </span>
        <span role="cell" className="hidden min-w-0 lg:block">
          {s.message ? (
            <span className="line-clamp-2 text-xs text-slate-600 dark:text-slate-300" title={s.message}>
              {s.message}
            </span>
          ) : (
            <span className="text-xs text-slate-400">—</span>
          )}
        </span>
      </div>
    );
  },
  (a, b) =>
    a.onOpen === b.onOpen &&
    (a.row === b.row ||
      (a.row.n === b.row.n && a.row.seq === b.row.seq && a.row.state === b.row.state && a.row.detail === b.row.detail)),
);

function HeaderRow() {
  return (
    <div
      role="row"
      className={cn(
        GRID,
        'border-b border-slate-200 bg-slate-50 text-xs font-semibold uppercase tracking-wide text-slate-600 dark:border-slate-700 dark:bg-slate-800 dark:text-slate-300',
      )}
      style={{ height: ROW_HEIGHT }}
    >
      <span role="columnheader">Task</span>
      <span role="columnheader">Target</span>
      <span role="columnheader">Stage</span>
      <span role="columnheader">State</span>
      <span role="columnheader">Outcome / evidence</span>
      <span role="columnheader" className="hidden lg:block">
        Message sent
      </span>
    </div>
  );
}

/** The tasks of one state (GET /api/jobs/{id}/tasks?state=), loaded page by page. */
function useFilteredTasks(jobId: string, store: JobStore, state: string | null, running: boolean) {
  const [numbers, setNumbers] = useState<number[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const busy = useRef(false);

  const load = useCallback(
    async (cursor: string | null, replace: boolean) => {
      if (!state || busy.current) return;
      busy.current = true;
      setLoading(true);
      const since = store.eventSeq;
      try {
        const page = await api.getJobTasks(jobId, { state, limit: 500, cursor });
        store.mergeTasks(page.items as TaskDetail[], since);
        const ns = page.items.map((t) => taskNumber((t as TaskDetail).id)).filter((n) => Number.isFinite(n));
        setNumbers((prev) => (replace ? ns : [...prev, ...ns]));
        setNext(page.nextCursor);
        setError(null);
      } catch (e) {
        if (!isAbort(e)) setError(e);
      } finally {
        busy.current = false;
        setLoading(false);
      }
    },
    [jobId, store, state],
  );

  useEffect(() => {
    setNumbers([]);
    setNext(null);
    if (state) void load(null, true);
  }, [state, load]);

  // while the job runs, tasks enter the state: the first page is read again (a longer list stays)
  useEffect(() => {
    if (!state || !running) return;
    const t = setInterval(() => {
      if (numbers.length <= 500) void load(null, true);
    }, 4000);
    return () => clearInterval(t);
  }, [state, running, numbers.length, load]);

  return { numbers, next, loading, error, loadMore: () => next && load(next, false), reload: () => load(null, true) };
}

export default function JobPage({ id }: { id: string }) {
  const { store, status, error, onVisible, reconcile } = useJobStream(id);
  const [filter, setFilter] = useState<string | null>(null);
  const [selected, setSelected] = useState<number | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [cancelling, setCancelling] = useState(false);
  const [cancelMsg, setCancelMsg] = useState<{ ok: boolean; text: string } | null>(null);

  const job = store.job;
  const jobStatus = store.status ?? job?.status ?? null;
  const total = store.total;
  const counts = store.counts;
  const done = TASK_STATES.reduce((a, s) => a + (TERMINAL_STATES.has(s) ? counts[s] ?? 0 : 0), 0);
  const progress = job ? store.progress : null;
  const over = jobStatus === 'completed' || jobStatus === 'cancelled';
  const filtered = useFilteredTasks(id, store, filter, !over);

  const open = useCallback((n: number) => setSelected(n), []);

  const onRange = useCallback(
    ({ start, end }: { start: number; end: number }) => {
      if (filter) {
        // the rows of a state filter came with their details; keep the list's end loading
        if (end >= filtered.numbers.length - 50 && filtered.next && !filtered.loading) void filtered.loadMore();
        onVisible([]);
      } else if (end > start) onVisible({ first: start + 1, last: end });
    },
    [filter, filtered, onVisible],
  );

  const cancel = async () => {
    setCancelling(true);
    setCancelMsg(null);
    try {
      await api.cancelJob(id);
      setCancelMsg({ ok: true, text: 'Cancelled: queued tasks will not run; running ones finish their stage.' });
      await reconcile();
    } catch (e) {
      setCancelMsg({
        ok: false,
        text: e instanceof ApiError && e.status === 409 ? 'The job has already completed.' : errorMessage(e),
      });
    } finally {
      setCancelling(false);
      setConfirming(false);
    }
  };

  const opts = (job?.options ?? {}) as Record<string, unknown>;
  const count = filter ? filtered.numbers.length : total;

  return (
    <section>
      <nav className="mb-2 text-sm">
        <a href="/jobs" onClick={(e) => linkClick(e, '/jobs')} className="text-indigo-600 hover:underline dark:text-indigo-400">
          ← Jobs
        </a>
      </nav>
      <PageHeader title={`Job ${id}`}>
        <StreamIndicator status={status} />
        <span data-testid="job-status" data-status={jobStatus ?? ''}>
          <Badge value={jobStatus ?? (status === 'failed' ? 'unknown' : '…')} />
        </span>
        {!over && job && (
          <>
            {!confirming ? (
              <button type="button" className="btn-danger" data-testid="job-cancel" onClick={() => setConfirming(true)} disabled={cancelling}>
                Cancel job
              </button>
            ) : (
              <span role="group" aria-label="Confirm cancelling" className="flex items-center gap-2 rounded-md border border-rose-300 bg-rose-50 px-2 py-1 text-sm dark:border-rose-800 dark:bg-rose-950/50">
                <span>Cancel this job?</span>
                <button type="button" className="btn-danger py-0.5" data-testid="job-cancel-confirm" onClick={cancel} disabled={cancelling}>
                  {cancelling ? <Spinner className="h-3 w-3" /> : null} Yes, cancel
                </button>
                <button type="button" className="btn-secondary py-0.5" onClick={() => setConfirming(false)} disabled={cancelling}>
                  Keep running
                </button>
              </span>
            )}
          </>
        )}
      </PageHeader>

      {status === 'failed' && <ErrorMessage error={error} className="mb-3" testId="job-error" />}
      {status === 'reconnecting' && (
        <p className="mb-3 text-sm text-amber-700 dark:text-amber-300" role="status">
          The event stream was interrupted ({errorMessage(error)}); reconnecting and resuming where it stopped…
        </p>
      )}
      {cancelMsg && (
        <p role="status" className={cn('mb-3 text-sm', cancelMsg.ok ? 'text-emerald-700 dark:text-emerald-300' : 'text-rose-700 dark:text-rose-300')}>
          {cancelMsg.text}
        </p>
      )}

      <div className="card mb-4">
        <div className="mb-2 flex flex-wrap items-baseline justify-between gap-2 text-sm">
          <span>
            <strong data-testid="job-done">{formatNumber(done)}</strong> of <strong data-testid="job-total">{formatNumber(total)}</strong> targets done
            {progress != null && <span className="ml-1 text-slate-500">({(progress * 100).toFixed(1)}%)</span>}
          </span>
          <span className="flex flex-wrap gap-3 text-xs text-slate-500">
            {job?.campaign_id && <span>Campaign {job.campaign_id}</span>}
            {job?.created && <span>Created {formatTime(job.created)}</span>}
            {job?.started && <span>Started {formatTime(job.started)}</span>}
            {job?.finished && <span>Finished {formatTime(job.finished)}</span>}
          </span>
        </div>
        <ProgressBar value={progress} label="Job progress" testId="job-progress" />
        <div className="mt-3 flex flex-wrap gap-2" role="group" aria-label="Tasks by state (click to filter)">
          {CHIP_ORDER.map((s) => (
            <button
              key={s}
              type="button"
              data-testid={`job-count-${s}`}
              data-count={counts[s] ?? 0}
              aria-pressed={filter === s}
              onClick={() => setFilter((f) => (f === s ? null : s))}
              className={cn(
                'flex items-center gap-1.5 rounded-md border px-2 py-1 text-xs transition-colors',
                filter === s
                  ? 'border-indigo-500 bg-indigo-50 dark:bg-indigo-950'
                  : 'border-slate-200 hover:bg-slate-50 dark:border-slate-700 dark:hover:bg-slate-800',
                !(counts[s] ?? 0) && filter !== s && 'opacity-60',
              )}
            >
              <Badge value={s} />
              <span className="font-semibold tabular-nums">{formatNumber(counts[s] ?? 0)}</span>
              <span className="sr-only">{STATE_LABEL[s]}</span>
            </button>
          ))}
        </div>
        <div className="mt-3 flex flex-wrap gap-2 text-xs text-slate-500">
          {Array.isArray(job?.stages) && job.stages.length > 0 && <span>Stages: {job.stages.join(' → ')}</span>}
          {opts.dry_run === true && <span className="rounded-full bg-amber-100 px-2 py-0.5 font-medium text-amber-800 dark:bg-amber-900/50 dark:text-amber-300">dry run</span>}
          {job?.usage && (job.usage.prompt_tokens || job.usage.completion_tokens) ? (
            <span>
              LLM tokens: {formatNumber(job.usage.prompt_tokens ?? 0)} in / {formatNumber(job.usage.completion_tokens ?? 0)} out
            </span>
          ) : null}
        </div>
      </div>

      <div className="card p-0">
        <div className="flex flex-wrap items-center justify-between gap-2 border-b border-slate-200 px-3 py-2 text-sm dark:border-slate-700">
          <span>
            {filter ? (
              <>
                Tasks {STATE_LABEL[filter]?.toLowerCase()}: {formatNumber(filtered.numbers.length)}
                {filtered.next ? '+' : ''}
                <button type="button" className="ml-2 text-indigo-600 underline dark:text-indigo-400" onClick={() => setFilter(null)}>
                  show all
                </button>
              </>
            ) : (
              <>All {formatNumber(total)} targets</>
            )}
          </span>
          <span className="text-xs text-slate-500">Select a row for its full record.</span>
        </div>
        {filter && <ErrorMessage error={filtered.error} className="m-3" onRetry={() => void filtered.reload()} />}
        <VirtualList
          count={count}
          rowHeight={ROW_HEIGHT}
          height={Math.max(320, Math.min(720, typeof window !== 'undefined' ? window.innerHeight - 360 : 560))}
          ariaLabel="Targets of the job"
          testId="job-tasks"
          header={<HeaderRow />}
          onRangeChange={onRange}
          empty={
            <p className="p-4 text-sm text-slate-500">
              {filter ? (filtered.loading ? 'Loading…' : 'No task in this state.') : job ? 'This job has no targets.' : 'Loading…'}
            </p>
          }
          renderRow={(i) => {
            const n = filter ? filtered.numbers[i] : i + 1;
            return n ? <TaskRowView row={store.rowAt(n)} onOpen={open} /> : null;
          }}
        />
        {filter && filtered.next && (
          <div className="border-t border-slate-200 p-2 text-center dark:border-slate-700">
            <button type="button" className="btn-secondary" onClick={() => void filtered.loadMore()} disabled={filtered.loading}>
              {filtered.loading ? <Spinner className="h-3 w-3" /> : null} Load more
            </button>
          </div>
        )}
      </div>
      <p className="mt-2 text-xs text-slate-500">
        Rows load {TASK_PAGE} at a time as they scroll into view; live changes arrive over Server-Sent Events.
      </p>

      <JobTaskDetail jobId={id} n={selected} onClose={() => setSelected(null)} />
    </section>
  );
}
