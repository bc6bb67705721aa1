import { useEffect, useState } from 'react';
import { useApi } from '../../hooks/useApi';
import { linkClick } from '../../hooks/useRoute';
import { api, ApiError, errorMessage, isBannerError } from '../../services/api';
import type { QueuesResponse } from '../../types';
import { cn, formatNumber, formatTime } from '../../utils/utils';
import { ago, canRequeue, deadRow, formatDuration, formatStatusValue, serviceRows, workerRows, type DeadRowData } from '../../utils/workers';
import Badge from '../UI/Badge';
import ErrorMessage from '../UI/ErrorMessage';
import PageHeader from '../UI/PageHeader';
import Spinner from '../UI/Spinner';
import { PagerButtons } from '../UI/PagerButtons';

const REFRESH_MS = 2000;
const DEAD_PAGE = 50;

const SERVICE_LABEL: Record<string, string> = {
  mcp: 'Enrichment (mcp)',
  llm: 'Compose (llm)',
  form: 'Submit (form)',
};

function LoadBar({ load, label }: { load: number; label: string }) {
  const pct = Math.round(load * 100);
  return (
    <div
      role="meter"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={pct}
      className="h-2 w-full overflow-hidden rounded-full bg-slate-200 dark:bg-slate-700"
    >
      <div
        className={cn('h-full rounded-full transition-[width] duration-300', load >= 0.9 ? 'bg-rose-500' : load >= 0.6 ? 'bg-amber-500' : 'bg-emerald-500')}
        style={{ width: `${pct}%` }}
      />
    </div>
  );
}

/** A refresh every REFRESH_MS while the tab is visible and `on`. */
function usePollTick(on: boolean): number {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!on) return;
    const t = setInterval(() => {
      if (document.visibilityState !== 'hidden') setTick((x) => x + 1);
    }, REFRESH_MS);
    return () => clearInterval(t);
  }, [on]);
  return tick;
}

function NotServed({ what }: { what: string }) {
  return (
    <p className="text-sm text-slate-500">
      This gateway does not serve <code>{what}</code> (an older version): upgrade it to see this.
    </p>
  );
}

function QueuesTable({ q }: { q: QueuesResponse }) {
  const ready = q.ready ?? {};
  const cols: [string, string, number, string][] = [
    ...Object.keys({ mcp: 0, llm: 0, form: 0, ...ready }).map(
      (s): [string, string, number, string] => [`ready-${s}`, `Ready: ${s}`, ready[s] ?? 0, `waiting for a ${s} worker`],
    ),
    ['delayed', 'Delayed', q.delayed ?? 0, 'retries waiting for their time'],
    ['inflight', 'In flight', q.inflight ?? 0, 'leased to a worker now'],
    ['dead', 'Dead letters', q.dead ?? 0, 'out of attempts (below)'],
  ];
  return (
    <table className="w-full table-fixed" data-testid="queues-table">
      <thead>
        <tr>
          {cols.map(([key, label, , hint]) => (
            <th key={key} scope="col" className="th truncate text-center normal-case" title={hint}>
              {label}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        <tr>
          {cols.map(([key, , n]) => (
            <td
              key={key}
              data-queue={key}
              data-count={n}
              className={cn('td text-center text-2xl font-semibold tabular-nums', key === 'dead' && n > 0 && 'text-rose-600 dark:text-rose-400')}
            >
              {formatNumber(n)}
            </td>
          ))}
        </tr>
      </tbody>
    </table>
  );
}

function DeadRow({ d, onRequeued }: { d: DeadRowData; onRequeued: () => void }) {
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const requeue = async () => {
    setBusy(true);
    setMsg(null);
    try {
      const r = await api.requeueTask(d.task_id);
      setMsg({ ok: true, text: `Requeued (${r?.state ?? 'queued'})` });
      onRequeued();
    } catch (e) {
      let text = errorMessage(e);
      if (e instanceof ApiError && e.status === 404) text = 'Gone: the task no longer exists (its job expired?)';
      else if (e instanceof ApiError && e.status === 409) text = `Not requeued: ${e.detail || 'the task is not dead any more'}`;
      setMsg({ ok: false, text });
    } finally {
      setBusy(false);
    }
  };
  const jobPath = `/jobs/${encodeURIComponent(d.job_id)}`;
  return (
    <tr data-testid="dead-row" data-task={d.task_id} className="align-top">
      <td className="td">
        <div className="font-mono text-xs">{d.task_id}</div>
        <a href={jobPath} onClick={(e) => linkClick(e, jobPath)} className="text-xs text-indigo-600 hover:underline dark:text-indigo-400">
          {d.job_id}
        </a>
      </td>
      <td className="td text-xs">{[d.service, d.stage].filter(Boolean).join(' / ') || '—'}</td>
      <td className="td">{d.state ? <Badge value={d.state} /> : <span className="text-xs text-slate-500">expired</span>}</td>
      <td className="td max-w-md text-xs text-rose-700 dark:text-rose-300">
        <span className="line-clamp-3 break-words" title={d.error ?? undefined}>
          {d.error ?? '—'}
        </span>
      </td>
      <td className="td text-right tabular-nums">{d.attempts ?? '—'}</td>
      <td className="td whitespace-nowrap text-xs">{formatTime(d.at)}</td>
      <td className="td text-right">
        <button
          type="button"
          className="btn-secondary py-0.5"
          onClick={requeue}
          disabled={busy || msg?.ok || !canRequeue(d)}
          title={canRequeue(d) ? 'Send the task round again from its failed stage' : `Only a failed task can be requeued (this one is ${d.state ?? 'gone'})`}
          data-testid="dead-requeue"
        >
          {busy ? <Spinner className="h-3 w-3" /> : null} Requeue
        </button>
        {msg && (
          <div role="status" className={cn('mt-1 text-xs', msg.ok ? 'text-emerald-700 dark:text-emerald-300' : 'text-rose-700 dark:text-rose-300')}>
            {msg.text}
          </div>
        )}
      </td>
    </tr>
  );
}

export default function WorkersPage() {
  const [live, setLive] = useState(true);
  const tick = usePollTick(live);
  const [deadCursors, setDeadCursors] = useState<(string | null)[]>([null]);
  const deadCursor = deadCursors[deadCursors.length - 1];

  const workers = useApi((s) => api.workers(s), [tick]);
  const queues = useApi((s) => api.queues(s), [tick]);
  const dead = useApi((s) => api.dead({ limit: DEAD_PAGE, cursor: deadCursor }, s), [tick, deadCursor]);

  const wrows = workerRows(workers.data);
  const srows = serviceRows(workers.data, wrows);
  const now = Date.now();
  const notFound = (e: unknown) => e instanceof ApiError && e.status === 404;

  return (
    <section>
      <PageHeader title="Workers & queues">
        <label className="flex items-center gap-1.5 text-sm text-slate-600 dark:text-slate-300">
          <input type="checkbox" checked={live} onChange={(e) => setLive(e.target.checked)} className="rounded" />
          Live (every {REFRESH_MS / 1000} s)
        </label>
        <button
          type="button"
          className="btn-secondary"
          onClick={() => {
            workers.reload();
            queues.reload();
            dead.reload();
          }}
        >
          Refresh
        </button>
      </PageHeader>

      <div className="mb-4 grid gap-3 sm:grid-cols-2 lg:grid-cols-3">
        {srows.map((s) => (
          <div key={s.service} className="card" data-testid="service-card" data-service={s.service}>
            <div className="flex items-baseline justify-between">
              <h2 className="text-sm font-semibold">{SERVICE_LABEL[s.service] ?? s.service}</h2>
              <span className="text-xs text-slate-500">
                {s.workers} worker{s.workers === 1 ? '' : 's'}
              </span>
            </div>
            <div className="mt-2 flex items-baseline gap-1">
              <span className="text-2xl font-semibold tabular-nums">{formatNumber(s.held)}</span>
              <span className="text-sm text-slate-500">/ {formatNumber(s.capacity)} slots busy</span>
            </div>
            <LoadBar load={s.load} label={`Load of the ${s.service} service`} />
          </div>
        ))}
        {workers.data && !srows.length && (
          <div className="card text-sm text-amber-700 dark:text-amber-300">No worker is connected: runs wait in the queues until one is.</div>
        )}
      </div>

      <div className="card mb-4 overflow-x-auto p-0">
        <h2 className="border-b border-slate-200 px-3 py-2 text-sm font-semibold dark:border-slate-700">Queues</h2>
        <div className="p-0">
          {queues.data ? (
            <QueuesTable q={queues.data} />
          ) : notFound(queues.error) ? (
            <div className="p-3">
              <NotServed what="GET /api/queues" />
            </div>
          ) : queues.error && !isBannerError(queues.error) ? (
            <ErrorMessage error={queues.error} className="m-3" onRetry={queues.reload} />
          ) : (
            <p className="p-3 text-sm text-slate-500">Loading…</p>
          )}
        </div>
      </div>
      <div className="card overflow-x-auto p-0">
        <h2 className="border-b border-slate-200 px-3 py-2 text-sm font-semibold dark:border-slate-700">Live workers</h2>
        <ErrorMessage error={isBannerError(workers.error) ? null : workers.error} className="m-3" onRetry={workers.reload} />
        <table className="min-w-full divide-y divide-slate-200 dark:divide-slate-700" data-testid="workers-table">
          <thead className="bg-slate-50 dark:bg-slate-800">
            <tr>
              <th className="th">Worker</th>
              <th className="th">Service</th>
              <th className="th w-48">Load</th>
              <th className="th">Up</th>
              <th className="th">Heartbeat</th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100 dark:divide-slate-800">
            {wrows.map((w) => (
              <tr key={w.id} data-testid="workers-row" data-id={w.id} className="align-top">
                <td className="td">
                  <div className="font-mono text-xs">{w.id}</div>
                  <div className="text-xs text-slate-500">
                    {[w.version && `v${w.version}`, w.gateway && `via ${w.gateway}`].filter(Boolean).join(' · ')}
                  </div>
                  {w.extra.length > 0 && (
                    <dl className="mt-1 space-y-0.5 text-xs text-slate-500">
                      {w.extra.map(([k, v]) => (
                        <div key={k} className="break-words">
                          <dt className="inline font-medium">{k.replace(/_/g, ' ')}:</dt> <dd className="inline break-all">{formatStatusValue(v)}</dd>
                        </div>
                      ))}
                    </dl>
                  )}
                </td>
                <td className="td">
                  <div>{w.service}</div>
                  {w.breaker && <Badge value={`breaker ${w.breaker}`} className="mt-1" />}
                </td>
                <td className="td">
                  <div className="mb-1 text-xs tabular-nums">
                    {w.held} / {w.capacity}
                  </div>
                  <LoadBar load={w.load} label={`Load of ${w.id}`} />
                </td>
                <td className="td whitespace-nowrap text-xs">{w.startedMs ? formatDuration(now - w.startedMs) : '—'}</td>
                <td className="td whitespace-nowrap text-xs">{ago(w.seenMs, now)}</td>
              </tr>
            ))}
            {!wrows.length && (
              <tr>
                <td colSpan={5} className="td py-6 text-center text-slate-500">
                  {workers.loading && !workers.data ? 'Loading…' : 'No live worker.'}
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>

      <div className="card mt-4 overflow-x-auto p-0">
        <div className="flex flex-wrap items-center justify-between gap-2 border-b border-slate-200 px-3 py-2 dark:border-slate-700">
          <h2 className="text-sm font-semibold">Dead letters</h2>
          <span className="text-xs text-slate-500">Tasks out of attempts. Requeue one to give it another try.</span>
        </div>
        {notFound(dead.error) && !dead.data ? (
          <div className="p-3">
            <NotServed what="GET /api/dead" />
          </div>
        ) : (
          <>
            <ErrorMessage error={isBannerError(dead.error) ? null : dead.error} className="m-3" onRetry={dead.reload} />
            <table className="min-w-full divide-y divide-slate-200 dark:divide-slate-700" data-testid="dead-table">
              <thead className="bg-slate-50 dark:bg-slate-800">
                <tr>
                  <th className="th">Task</th>
                  <th className="th">Service / stage</th>
                  <th className="th">State</th>
                  <th className="th">Error</th>
                  <th className="th text-right">Attempts</th>
                  <th className="th">Failed at</th>
                  <th className="th" />
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100 dark:divide-slate-800">
                {(dead.data?.items ?? []).map((item, i) => {
                  const d = deadRow(item);
                  return (
                    <DeadRow
                      key={`${d.task_id}-${d.at ?? i}`}
                      d={d}
                      onRequeued={() => {
                        queues.reload();
                        dead.reload();
                      }}
                    />
                  );
                })}
                {!(dead.data?.items ?? []).length && (
                  <tr>
                    <td colSpan={7} className="td py-6 text-center text-slate-500">
                      {dead.loading && !dead.data ? 'Loading…' : 'No dead letter.'}
                    </td>
                  </tr>
                )}
              </tbody>
            </table>
            {(deadCursors.length > 1 || dead.data?.next_cursor) && (
              <div className="flex justify-end gap-2 border-t border-slate-200 p-2 dark:border-slate-700">
                <PagerButtons
                  depth={deadCursors.length}
                  next={dead.data?.next_cursor}
                  onPrev={() => setDeadCursors((c) => c.slice(0, -1))}
                  onNext={(n) => setDeadCursors((c) => [...c, n])}
                />
              </div>
            )}
          </>
        )}
      </div>
    </section>
  );
}
