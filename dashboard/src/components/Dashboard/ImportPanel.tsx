import { useRef, useState } from 'react';
import { ApiError, errorMessage, importContentType, isAbort, uploadImport, type UploadProgress } from '../../services/api';
import type { ImportResult } from '../../types';
import { formatBytes, formatNumber } from '../../utils/utils';
import ErrorMessage from '../UI/ErrorMessage';
import ProgressBar from '../UI/ProgressBar';

type Phase = 'idle' | 'uploading' | 'processing' | 'done' | 'failed';

/** Import prospects from a .csv or .jsonl/.ndjson file, with upload progress and the result. */
export default function ImportPanel({ onImported }: { onImported: () => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [phase, setPhase] = useState<Phase>('idle');
  const [progress, setProgress] = useState<UploadProgress>({ loaded: 0, total: 0 });
  const [result, setResult] = useState<ImportResult | null>(null);
  const [error, setError] = useState<unknown>(null);
  const abortRef = useRef<(() => void) | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);

  const badType = file != null && importContentType(file) == null;

  const start = () => {
    if (!file || badType) return;
    setPhase('uploading');
    setResult(null);
    setError(null);
    setProgress({ loaded: 0, total: file.size });
    const h = uploadImport(file, (p) => {
      setProgress(p);
      if (p.total > 0 && p.loaded >= p.total) setPhase('processing');
    });
    abortRef.current = h.abort;
    h.promise
      .then((r) => {
        setResult(r);
        setPhase('done');
        onImported();
      })
      .catch((e) => {
        setPhase(isAbort(e) ? 'idle' : 'failed');
        if (!isAbort(e)) setError(e);
      })
      .finally(() => {
        abortRef.current = null;
      });
  };

  const busy = phase === 'uploading' || phase === 'processing';
  const frac = progress.total > 0 ? progress.loaded / progress.total : 0;
  const partial = error instanceof ApiError && typeof error.problem.written_through_line === 'number' ? error.problem : null;

  return (
    <div className="card" aria-label="Import prospects" role="region">
      <h2 className="mb-1 text-base font-semibold">Import prospects</h2>
      <p className="mb-3 text-sm text-slate-500 dark:text-slate-400">
        A CSV file with a header row naming the fields (name, company, status, industry, lastContactDate, email, title,
        website, id), or JSON lines (.jsonl, .ndjson): one prospect object a line. Rows with an id or an e-mail that exists
        update it; importing the same file again is safe.
      </p>
      <div className="flex flex-wrap items-center gap-3">
        <label htmlFor="import-file" className="sr-only">
          File to import
        </label>
        <input
          ref={fileInput}
          id="import-file"
          data-testid="import-file"
          type="file"
          accept=".csv,.jsonl,.ndjson,text/csv,application/x-ndjson"
          disabled={busy}
          onChange={(e) => {
            setFile(e.target.files?.[0] ?? null);
            setResult(null);
            setError(null);
            setPhase('idle');
          }}
          className="block text-sm text-slate-600 file:mr-3 file:rounded-md file:border-0 file:bg-indigo-50 file:px-3 file:py-1.5 file:text-sm file:font-medium file:text-indigo-700 hover:file:bg-indigo-100 dark:text-slate-300 dark:file:bg-indigo-950 dark:file:text-indigo-300"
        />
        <button type="button" className="btn-primary" data-testid="import-start" disabled={!file || badType || busy} onClick={start}>
          {phase === 'failed' ? 'Send again' : 'Start import'}
        </button>
        {busy && (
          <button type="button" className="btn-secondary" onClick={() => abortRef.current?.()}>
            Cancel
          </button>
        )}
        {file && (
          <span className="text-xs text-slate-500">{formatBytes(file.size)}</span>
        )}
      </div>
      {badType && <p className="mt-2 text-sm text-rose-600">Pick a .csv, .jsonl or .ndjson file.</p>}

      {phase !== 'idle' && (
        <div className="mt-4">
          <div className="mb-1 flex justify-between text-xs text-slate-600 dark:text-slate-300">
            <span>
              {phase === 'uploading'
                ? 'Uploading…'
                : phase === 'processing'
                  ? 'Uploaded; the gateway is importing the rows…'
                  : phase === 'done'
                    ? 'Done'
                    : 'Failed'}
            </span>
            <span className="tabular-nums">
              {formatBytes(progress.loaded)} / {formatBytes(progress.total)} ({Math.round(frac * 100)}%)
            </span>
          </div>
          <ProgressBar value={frac} label="Upload progress" testId="import-progress" />
        </div>
      )}

      {error != null && (
        <div className="mt-4 space-y-2">
          <ErrorMessage error={error} />
          {partial && (
            <p className="text-sm text-slate-600 dark:text-slate-300">
              Rows up to line {formatNumber(partial.written_through_line as number)} were written
              {typeof partial.imported === 'number' && <> ({formatNumber(partial.imported)} created)</>}
              {typeof partial.not_written_from_line === 'number' && (
                <>; none from line {formatNumber(partial.not_written_from_line)} on</>
              )}
              . Sending the same file again is safe: nothing is lost or written twice.
            </p>
          )}
          {!partial && !(error instanceof ApiError) && <p className="sr-only">{errorMessage(error)}</p>}
        </div>
      )}

      {result && (
        <div className="mt-4" data-testid="import-result">
          <dl className="grid grid-cols-3 gap-3 text-center">
            <div className="rounded-md bg-emerald-50 p-2 dark:bg-emerald-950/40">
              <dt className="text-xs uppercase text-emerald-700 dark:text-emerald-300">Created</dt>
              <dd className="text-xl font-semibold tabular-nums" data-testid="import-created">
                {formatNumber(result.imported)}
              </dd>
            </div>
            <div className="rounded-md bg-sky-50 p-2 dark:bg-sky-950/40">
              <dt className="text-xs uppercase text-sky-700 dark:text-sky-300">Updated</dt>
              <dd className="text-xl font-semibold tabular-nums" data-testid="import-updated">
                {formatNumber(result.updated)}
              </dd>
            </div>
            <div className="rounded-md bg-rose-50 p-2 dark:bg-rose-950/40">
              <dt className="text-xs uppercase text-rose-700 dark:text-rose-300">Rejected</dt>
              <dd className="text-xl font-semibold tabular-nums" data-testid="import-rejected-total">
                {formatNumber(result.rejected_total ?? result.rejected.length)}
              </dd>
            </div>
          </dl>
          {result.rejected.length > 0 && (
            <div className="mt-3">
              <h3 className="mb-1 text-sm font-semibold">Rejected rows</h3>
              {(result.rejected_total ?? 0) > result.rejected.length && (
                <p className="mb-1 text-xs text-slate-500">
                  The first {formatNumber(result.rejected.length)} of {formatNumber(result.rejected_total)} are listed.
                </p>
              )}
              <div className="max-h-72 overflow-y-auto rounded-md border border-slate-200 dark:border-slate-700">
                <table className="min-w-full divide-y divide-slate-200 text-sm dark:divide-slate-700">
                  <thead className="sticky top-0 bg-slate-50 dark:bg-slate-800">
                    <tr>
                      <th scope="col" className="th w-24">
                        Line
                      </th>
                      <th scope="col" className="th">
                        Reason
                      </th>
                    </tr>
                  </thead>
                  <tbody className="divide-y divide-slate-100 dark:divide-slate-800">
                    {result.rejected.map((r, i) => (
                      <tr key={`${r.line}-${i}`} data-testid="import-rejected" data-line={r.line}>
                        <td className="td tabular-nums">{r.line} </td>
                        <td className="td text-rose-700 dark:text-rose-300">{r.error}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </div>
          )}
        </div>
      )}
    </div>
  );
}
