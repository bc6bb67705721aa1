import { useRef, useState, type ChangeEvent, type FormEvent } from 'react';
import { useApi } from '../../hooks/useApi';
import { api, errorMessage, isAbort, isBannerError } from '../../services/api';
import type { Suppression } from '../../types';
import {
  importSuppressions,
  inferKind,
  parseSuppressionCsv,
  splitValues,
  type ImportProgress,
  type ParsedSuppressions,
  type RejectedValue,
  type SuppressionResult,
} from '../../utils/suppressionCsv';
import { cn, formatBytes, formatNumber, formatTime } from '../../utils/utils';
import ErrorMessage from '../UI/ErrorMessage';
import ProgressBar from '../UI/ProgressBar';
import Spinner from '../UI/Spinner';
import { PagerButtons } from '../UI/PagerButtons';

const PAGE = 50;
const BATCH = 1000;

function KindPill({ kind }: { kind: string }) {
  return (
    <span
      className={cn(
        'inline-flex rounded-full px-2 py-0.5 text-xs font-medium',
        kind === 'email'
          ? 'bg-violet-100 text-violet-800 dark:bg-violet-900/50 dark:text-violet-300'
          : 'bg-sky-100 text-sky-800 dark:bg-sky-900/50 dark:text-sky-300',
      )}
    >
      {kind}
    </span>
  );
}

function RejectedList({ items, total, testId }: { items: RejectedValue[]; total: number; testId?: string }) {
  if (!items.length) return null;
  const shown = items.slice(0, 200);
  return (
    <details className="mt-2 text-sm" open={items.length <= 10} data-testid={testId}>
      <summary className="cursor-pointer text-rose-700 dark:text-rose-300">
        {formatNumber(total)} rejected{total > shown.length ? ` (the first ${shown.length} shown)` : ''}
      </summary>
      <ul className="mt-1 max-h-48 space-y-0.5 overflow-auto text-xs">
        {shown.map((r, i) => (
          <li key={`${r.line}-${i}`}>
            {r.line ? <span className="text-slate-500">line {r.line}: </span> : null}
            <code className="break-all">{r.value}</code> — {r.detail}
          </li>
        ))}
      </ul>
    </details>
  );
}

function Counts({ added, existing, rejected }: { added: number; existing: number; rejected: number }) {
  return (
    <span>
      <strong className="text-emerald-700 dark:text-emerald-300">{formatNumber(added)}</strong> added,{' '}
      <strong>{formatNumber(existing)}</strong> already there,{' '}
      <strong className={rejected ? 'text-rose-700 dark:text-rose-300' : ''}>{formatNumber(rejected)}</strong> rejected
    </span>
  );
}

/** Add typed values: domains, URLs (reduced to their host) and addresses. */
function AddForm({ onChanged }: { onChanged: () => void }) {
  const [text, setText] = useState('');
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [result, setResult] = useState<{ res: SuppressionResult; values: string[] } | null>(null);
  const values = splitValues(text);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!values.length) return;
    const domains: string[] = [];
    const emails: string[] = [];
    for (const v of values) (inferKind(v) === 'email' ? emails : domains).push(v);
    setBusy(true);
    setError(null);
    try {
      const res = await api.addSuppressions({ domains, emails, ...(reason.trim() ? { reason: reason.trim() } : {}) });
      setResult({ res, values });
      if (res.added) onChanged();
      if (!res.rejected_total) setText('');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const rejected: RejectedValue[] = (result?.res.rejected ?? []).map((r) => ({
    line: 0,
    value: r.value ?? '',
    detail: r.detail ?? 'rejected',
  }));

  return (
    <form onSubmit={submit} className="space-y-2" aria-label="Add suppressions">
      <label className="block">
        <span className="label">Domains, URLs or e-mail addresses</span>
        <textarea
          className="input min-h-[5rem] font-mono"
          value={text}
          onChange={(e) => setText(e.target.value)}
          placeholder={'acme.example\nhttps://www.globex.example/contact\nada@analytical-engines.example'}
          data-testid="suppressions-input"
        />
      </label>
      <div className="flex flex-col gap-2 sm:flex-row sm:items-end">
        <label className="min-w-0 flex-1">
          <span className="label">Reason (optional)</span>
          <input className="input" maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} placeholder="asked not to be contacted" data-testid="suppressions-reason" />
        </label>
        <button type="submit" className="btn-primary justify-center" disabled={busy || !values.length} data-testid="suppressions-add">
          {busy ? <Spinner className="h-3 w-3" /> : null} Add {values.length > 1 ? formatNumber(values.length) : ''}
        </button>
      </div>
      <p className="text-xs text-slate-500">A domain also covers its subdomains. Values are normalised by the server (lowercase, a URL reduced to its host).</p>
      <ErrorMessage error={error} />
      {result && (
        <div className="text-sm" role="status" data-testid="suppressions-add-result">
          <Counts added={result.res.added} existing={result.res.existing} rejected={result.res.rejected_total} />
          <RejectedList items={rejected} total={result.res.rejected_total} />
        </div>
      )}
    </form>
  );
}

/** A CSV file parsed here and sent in batches of BATCH values. */
function CsvImport({ onChanged }: { onChanged: () => void }) {
  const [file, setFile] = useState<{ name: string; size: number } | null>(null);
  const [parsed, setParsed] = useState<ParsedSuppressions | null>(null);
  const [reason, setReason] = useState('');
  const [progress, setProgress] = useState<ImportProgress | null>(null);
  const [running, setRunning] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const abort = useRef<AbortController | null>(null);
  const input = useRef<HTMLInputElement>(null);

  const onFile = async (e: ChangeEvent<HTMLInputElement>) => {
    const f = e.target.files?.[0];
    setProgress(null);
    setError(null);
    setParsed(null);
    if (!f) {
      setFile(null);
      return;
    }
    setFile({ name: f.name, size: f.size });
    try {
      setParsed(parseSuppressionCsv(await f.text()));
    } catch (err) {
      setError(err);
    }
  };

  const start = async () => {
    if (!parsed) return;
    const ctrl = new AbortController();
    abort.current = ctrl;
    setRunning(true);
    setError(null);
    try {
      const res = await importSuppressions(parsed, (body) => api.addSuppressions(body), setProgress, {
        batchSize: BATCH,
        reason: reason.trim() || undefined,
        signal: ctrl.signal,
      });
      setProgress(res);
      if (res.added) onChanged();
    } catch (err) {
      if (!isAbort(err)) setError(err);
    } finally {
      setRunning(false);
      abort.current = null;
    }
  };

  const domains = parsed?.entries.filter((e) => e.kind === 'domain').length ?? 0;
  const emails = (parsed?.entries.length ?? 0) - domains;
  const done = progress && progress.done === progress.batches && !running;

  return (
    <div className="space-y-2">
      <label className="block">
        <span className="label">Import a CSV file</span>
        <input
          ref={input}
          type="file"
          accept=".csv,.txt,text/csv,text/plain"
          onChange={onFile}
          disabled={running}
          className="block w-full text-sm file:mr-3 file:rounded-md file:border-0 file:bg-slate-100 file:px-3 file:py-1.5 file:text-sm file:font-medium hover:file:bg-slate-200 dark:file:bg-slate-800 dark:file:text-slate-200"
          data-testid="suppressions-import-file"
        />
      </label>
      <p className="text-xs text-slate-500">
        One value a line (<code>value[,kind[,reason]]</code>), or a header naming a <code>value</code>, <code>email</code>,{' '}
        <code>domain</code> or <code>website</code> column (a prospects export works), with optional <code>kind</code> and{' '}
        <code>reason</code> columns.
      </p>
      <ErrorMessage error={error} />
      {file && parsed && (
        <div className="rounded-md border border-slate-200 p-3 text-sm dark:border-slate-700" data-testid="suppressions-import-preview">
          <p>
            <strong>{file.name}</strong> ({formatBytes(file.size)}): <strong>{formatNumber(parsed.entries.length)}</strong> values —{' '}
            {formatNumber(domains)} domains, {formatNumber(emails)} addresses
            {parsed.header ? (
              <>
                , read from the column <code>{parsed.column}</code>
              </>
            ) : null}
            .
          </p>
          {!progress && <RejectedList items={parsed.rejected} total={parsed.rejected.length} />}
          <div className="mt-2 flex flex-col gap-2 sm:flex-row sm:items-end">
            <label className="min-w-0 flex-1">
              <span className="label">Reason for rows without one (optional)</span>
              <input className="input" maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} disabled={running} placeholder="opt-out list import" />
            </label>
            {running ? (
              <button type="button" className="btn-secondary" onClick={() => abort.current?.abort()}>
                Stop
              </button>
            ) : (
              <button type="button" className="btn-primary justify-center" onClick={start} disabled={!parsed.entries.length} data-testid="suppressions-import-start">
                Import {formatNumber(parsed.entries.length)} values
              </button>
            )}
          </div>
        </div>
      )}
      {progress && (
        <div className="space-y-1 text-sm" data-testid="suppressions-import-result" data-done={done ? 'true' : 'false'}>
          <ProgressBar
            value={progress.batches ? progress.done / progress.batches : 1}
            label="Suppression import progress"
            testId="suppressions-import-progress"
          />
          <p role="status">
            {formatNumber(progress.sent)} of {formatNumber(progress.values)} values sent (batch {progress.done} of {progress.batches}
            ): <Counts added={progress.added} existing={progress.existing} rejected={progress.rejectedTotal} />
            {done ? '. Done.' : running ? '…' : '. Stopped.'}
          </p>
          {progress.failed.length > 0 && (
            <ul className="text-xs text-rose-700 dark:text-rose-300" role="alert">
              {progress.failed.map((f) => (
                <li key={f.batch}>
                  Batch {f.batch} (lines {f.lines[0]}–{f.lines[1]}) was not sent: {f.error}. Import the file again: values already there
                  count as existing.
                </li>
              ))}
            </ul>
          )}
          <RejectedList items={progress.rejected} total={progress.rejectedTotal} testId="suppressions-import-rejected" />
        </div>
      )}
    </div>
  );
}

function SuppressionRow({ s, onRemoved }: { s: Suppression; onRemoved: () => void }) {
  const [confirm, setConfirm] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const remove = async () => {
    setBusy(true);
    setError(null);
    try {
      await api.deleteSuppression(s.value, s.kind);
      onRemoved();
    } catch (e) {
      setError(errorMessage(e));
      setBusy(false);
    }
  };
  return (
    <tr data-testid="suppressions-row" data-value={s.value} data-kind={s.kind}>
      <td className="td break-all font-mono text-xs">{s.value}</td>
      <td className="td">
        <KindPill kind={s.kind} />
      </td>
      <td className="td whitespace-nowrap text-xs">{formatTime(s.added)}</td>
      <td className="td text-xs text-slate-600 dark:text-slate-300">{s.reason ?? ''}</td>
      <td className="td whitespace-nowrap text-right">
        {confirm ? (
          <span className="inline-flex items-center gap-1">
            <button type="button" className="btn-danger py-0.5" onClick={remove} disabled={busy} data-testid="suppressions-remove-confirm">
              {busy ? <Spinner className="h-3 w-3" /> : null} Remove
            </button>
            <button type="button" className="btn-secondary py-0.5" onClick={() => setConfirm(false)} disabled={busy}>
              Keep
            </button>
          </span>
        ) : (
          <button type="button" className="btn-secondary py-0.5" onClick={() => setConfirm(true)} aria-label={`Remove ${s.value}`} data-testid="suppressions-remove">
            Remove
          </button>
        )}
        {error && <div className="mt-1 text-xs text-rose-700 dark:text-rose-300">{error}</div>}
      </td>
    </tr>
  );
}

export default function SuppressionsPanel() {
  const [kind, setKind] = useState<'' | 'domain' | 'email'>('');
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const cursor = cursors[cursors.length - 1];
  const { data, error, loading, reload } = useApi(
    (signal) => api.listSuppressions({ kind: kind || undefined, limit: PAGE, cursor }, signal),
    [kind, cursor],
  );
  const items = data?.items ?? [];

  return (
    <div className="card" data-testid="suppressions">
      <div className="mb-1 flex flex-wrap items-center justify-between gap-2">
        <h2 className="text-base font-semibold">Opt-outs (suppression list)</h2>
        <span className="text-sm text-slate-500" data-testid="suppressions-total">
          {data?.total != null ? `${formatNumber(data.total)} suppressed` : ''}
        </span>
      </div>
      <p className="mb-4 text-sm text-slate-600 dark:text-slate-300">No form is ever sent to these domains and addresses: their tasks are skipped.</p>

      <div className="grid gap-6 lg:grid-cols-2">
        <AddForm onChanged={reload} />
        <CsvImport onChanged={reload} />
      </div>

      <div className="mt-6 flex flex-wrap items-center justify-between gap-2">
        <label className="flex items-center gap-2 text-sm">
          <span className="text-slate-600 dark:text-slate-300">Show</span>
          <select
            className="input w-36 py-1"
            value={kind}
            onChange={(e) => {
              setKind(e.target.value as '' | 'domain' | 'email');
              setCursors([null]);
            }}
            data-testid="suppressions-filter-kind"
          >
            <option value="">everything</option>
            <option value="domain">domains</option>
            <option value="email">addresses</option>
          </select>
        </label>
        <button type="button" className="btn-secondary py-1" onClick={reload} disabled={loading}>
          {loading ? <Spinner className="h-3 w-3" /> : null} Refresh
        </button>
      </div>
      <ErrorMessage error={isBannerError(error) ? null : error} className="mt-2" onRetry={reload} />
      <div className="mt-2 overflow-x-auto rounded-md border border-slate-200 dark:border-slate-700">
        <table className="min-w-full divide-y divide-slate-200 dark:divide-slate-700" data-testid="suppressions-table">
          <thead className="bg-slate-50 dark:bg-slate-800">
            <tr>
              <th className="th">Value</th>
              <th className="th">Kind</th>
              <th className="th">Added</th>
              <th className="th">Reason</th>
              <th className="th" />
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100 dark:divide-slate-800">
            {items.map((s) => (
              <SuppressionRow key={`${s.kind}:${s.value}`} s={s} onRemoved={reload} />
            ))}
            {!items.length && (
              <tr>
                <td colSpan={5} className="td py-6 text-center text-slate-500">
                  {loading && !data ? 'Loading…' : 'Nothing suppressed.'}
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      {(cursors.length > 1 || data?.nextCursor) && (
        <div className="mt-2 flex items-center justify-end gap-2 text-sm">
          <span className="mr-auto text-slate-500">Page {cursors.length}</span>
          <PagerButtons
            depth={cursors.length}
            next={data?.nextCursor}
            onPrev={() => setCursors((c) => c.slice(0, -1))}
            onNext={(n) => setCursors((c) => [...c, n])}
          />
        </div>
      )}
    </div>
  );
}
