import { useState } from 'react';
import { useApi } from '../../hooks/useApi';
import { linkClick, navigate } from '../../hooks/useRoute';
import { api, isBannerError } from '../../services/api';
import type { Job } from '../../types';
import { jobProgress } from '../../utils/jobState';
import { formatNumber, formatTime } from '../../utils/utils';
import Badge from '../UI/Badge';
import ErrorMessage from '../UI/ErrorMessage';
import PageHeader from '../UI/PageHeader';
import ProgressBar from '../UI/ProgressBar';
import Spinner from '../UI/Spinner';
import { PagerButtons } from '../UI/PagerButtons';

const STATUSES = ['', 'queued', 'running', 'completed', 'cancelled'] as const;
const PAGE = 50;
/** the counts a list row shows, in this order (the others are in the job's page) */
const SHOWN = ['succeeded', 'failed', 'captcha_required', 'skipped', 'uncertain', 'cancelled'] as const;

export default function JobsPage() {
  const [status, setStatus] = useState<string>('');
  // cursor paging: the cursors of the pages before this one
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const cursor = cursors[cursors.length - 1];
  const [live, setLive] = useState(true);

  const { data, error, loading, reload } = useApi(
    (signal) => api.listJobs({ status: status || undefined, limit: PAGE, cursor }, signal),
    [status, cursor],
    live ? 5000 : undefined,
  );
  const jobs: Job[] = data?.items ?? [];

  const setFilter = (s: string) => {
    setStatus(s);
    setCursors([null]);
  };

  return (
    <section>
      <PageHeader title="Jobs">
        <label className="flex items-center gap-2 text-sm">
          <span className="text-slate-600 dark:text-slate-300">Status</span>
          <select className="input w-36 py-1" value={status} onChange={(e) => setFilter(e.target.value)} data-testid="jobs-filter-status">
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s ? s : 'any'}
              </option>
            ))}
          </select>
        </label>
        <label className="flex items-center gap-1.5 text-sm text-slate-600 dark:text-slate-300">
          <input type="checkbox" checked={live} onChange={(e) => setLive(e.target.checked)} className="rounded" />
          Auto-refresh
        </label>
        <button type="button" className="btn-secondary" onClick={reload} disabled={loading}>
          {loading ? <Spinner className="h-3 w-3" /> : null} Refresh
        </button>
      </PageHeader>

      <ErrorMessage error={isBannerError(error) ? null : error} className="mb-3" onRetry={reload} />

      <div className="card overflow-x-auto p-0">
        <table className="min-w-full divide-y divide-slate-200 dark:divide-slate-700" data-testid="jobs-table">
          <thead className="bg-slate-50 dark:bg-slate-800">
            <tr>
              <th className="th">Job</th>
              <th className="th">Status</th>
              <th className="th w-48">Progress</th>
              <th className="th">Targets</th>
              <th className="th">Outcomes</th>
              <th className="th">Created</th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100 dark:divide-slate-800">
            {jobs.map((j) => {
              const total = j.total ?? 0;
              const counts = j.counts ?? {};
              const p = typeof j.progress === 'number' ? j.progress : jobProgress(counts, total);
              const to = `/jobs/${encodeURIComponent(j.id)}`;
              const dry = (j.options as Record<string, unknown> | undefined)?.dry_run === true;
              return (
                <tr
                  key={j.id}
                  data-testid="jobs-row"
                  data-id={j.id}
                  className="cursor-pointer hover:bg-slate-50 dark:hover:bg-slate-800/60"
                  onClick={(e) => {
                    if ((e.target as HTMLElement).closest('a')) return;
                    navigate(to);
                  }}
                >
                  <td className="td">
                    <a href={to} onClick={(e) => linkClick(e, to)} className="font-mono text-xs text-indigo-600 hover:underline dark:text-indigo-400">
                      {j.id}
                    </a>
                    <div className="mt-0.5 flex gap-1 text-xs text-slate-500">
                      {j.campaign_id && <span>{j.campaign_id}</span>}
                      {dry && <span className="rounded bg-amber-100 px-1 text-amber-800 dark:bg-amber-900/50 dark:text-amber-300">dry run</span>}
                    </div>
                  </td>
                  <td className="td">
                    <Badge value={j.status} />
                  </td>
                  <td className="td">
                    <div className="flex items-center gap-2">
                      <ProgressBar value={p} label={`Progress of ${j.id}`} className="h-1.5" />
                      <span className="w-12 text-right text-xs tabular-nums text-slate-500">{(p * 100).toFixed(0)}%</span>
                    </div>
                  </td>
                  <td className="td tabular-nums">
                    {formatNumber(total)}
                    {(counts.running ?? 0) + (counts.queued ?? 0) + (counts.retry_wait ?? 0) > 0 && (
                      <span className="ml-1 text-xs text-slate-500">
                        ({formatNumber((counts.running ?? 0) + (counts.queued ?? 0) + (counts.retry_wait ?? 0))} to go)
                      </span>
                    )}
                  </td>
                  <td className="td">
                    <div className="flex flex-wrap gap-1">
                      {SHOWN.filter((s) => (counts[s] ?? 0) > 0).map((s) => (
                        <span key={s} className="inline-flex items-center gap-1 text-xs">
                          <Badge value={s} />
                          <span className="tabular-nums">{formatNumber(counts[s] ?? 0)}</span>
                        </span>
                      ))}
                    </div>
                  </td>
                  <td className="td whitespace-nowrap text-xs text-slate-600 dark:text-slate-300">{formatTime(j.created)}</td>
                </tr>
              );
            })}
            {!jobs.length && (
              <tr>
                <td colSpan={6} className="td py-8 text-center text-slate-500">
                  {loading && !data ? (
                    <span className="inline-flex items-center gap-2">
                      <Spinner /> Loading…
                    </span>
                  ) : status ? (
                    `No ${status} job.`
                  ) : (
                    <>
                      No job yet.{' '}
                      <a href="/run" onClick={(e) => linkClick(e, '/run')} className="text-indigo-600 underline dark:text-indigo-400">
                        Run a campaign
                      </a>
                      .
                    </>
                  )}
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>

      <div className="mt-3 flex items-center justify-between text-sm">
        <span className="text-slate-500">Page {cursors.length}</span>
        <div className="flex gap-2">
          <PagerButtons
            depth={cursors.length}
            next={data?.nextCursor}
            onPrev={() => setCursors((c) => c.slice(0, -1))}
            onNext={(n) => setCursors((c) => [...c, n])}
            testIdPrefix="jobs"
          />
        </div>
      </div>
    </section>
  );
}
