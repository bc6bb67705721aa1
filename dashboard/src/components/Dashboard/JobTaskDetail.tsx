import { useEffect, useState, type ReactNode } from 'react';
import { fetchTask } from '../../hooks/useJobStream';
import { isAbort } from '../../services/api';
import { taskId, type TaskDetail } from '../../utils/jobState';
import { summarizeTask, type FormField } from '../../utils/taskSummary';
import { formatTime } from '../../utils/utils';
import Badge from '../UI/Badge';
import CopyButton from '../UI/CopyButton';
import Dialog from '../UI/Dialog';
import ErrorMessage from '../UI/ErrorMessage';
import Spinner from '../UI/Spinner';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | null => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : null);

function Row({ label, children }: { label: string; children: ReactNode }) {
  if (children == null || children === '') return null;
  return (
    <div className="grid grid-cols-[7rem_minmax(0,1fr)] gap-2 py-1 text-sm">
      <dt className="text-slate-500 dark:text-slate-400">{label}</dt>
      <dd className="min-w-0 break-words">{children}</dd>
    </div>
  );
}

function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section className="mt-4">
      <h3 className="mb-1 text-xs font-semibold uppercase tracking-wide text-slate-500 dark:text-slate-400">{title}</h3>
      {children}
    </section>
  );
}

function ExtLink({ href }: { href: string }) {
  const safe = /^https?:\/\//i.test(href);
  return safe ? (
    <a href={href} target="_blank" rel="noopener noreferrer" className="text-indigo-600 underline hover:no-underline dark:text-indigo-400">
      {href}
    </a>
  ) : (
    <span>{href}</span>
  );
}

function Fields({ list }: { list: FormField[] }) {
  if (!list.length) return null;
  return (
    <table className="w-full table-fixed text-left text-xs">
      <thead>
        <tr className="text-slate-500">
          <th className="w-1/3 py-1 font-medium">Field</th>
          <th className="py-1 font-medium">Value</th>
        </tr>
      </thead>
      <tbody className="divide-y divide-slate-100 dark:divide-slate-800">
        {list.map((f, i) => (
          <tr key={`${f.name}-${i}`} className="align-top">
            <td className="py-1 pr-2">
              <div className="font-medium">{f.label || f.name}</div>
              <div className="text-slate-500">
                {f.name}
                {f.kind ? ` · ${f.kind}` : ''}
              </div>
            </td>
            <td className="whitespace-pre-wrap break-words py-1">{f.value}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A task's full record, read fresh when opened (the row's details). */
export default function JobTaskDetail({ jobId, n, onClose }: { jobId: string; n: number | null; onClose: () => void }) {
  const [task, setTask] = useState<TaskDetail | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);
  const [tick, setTick] = useState(0);

  useEffect(() => {
    if (n == null) return;
    const ctrl = new AbortController();
    setLoading(true);
    setError(null);
    fetchTask(jobId, n, ctrl.signal)
      .then((t) => {
        setTask(t);
        if (!t) setError(new Error(`task ${taskId(n)} was not found (its job may have expired)`));
      })
      .catch((e) => {
        if (!isAbort(e)) setError(e);
      })
      .finally(() => {
        if (!ctrl.signal.aborted) setLoading(false);
      });
    return () => ctrl.abort();
  }, [jobId, n, tick]);

  const results = obj(task?.results) ?? {};
  const s = summarizeTask(results, task?.error);
  const submit = obj(results.submit);
  const compose = obj(results.compose);
  const enrich = obj(results.enrich);
  const request = obj(submit?.request);
  const ev = obj(submit?.evidence);
  const captcha = obj(submit?.captcha);
  const form = obj(submit?.form);

  return (
    <Dialog open={n != null} title={n != null ? `Task ${taskId(n)}` : 'Task'} onClose={onClose} testId="job-task-detail">
      {loading && !task && (
        <p className="flex items-center gap-2 text-sm text-slate-500">
          <Spinner /> Loading the task…
        </p>
      )}
      <ErrorMessage error={error} onRetry={() => setTick((t) => t + 1)} />
      {task && (
        <div>
          <div className="mb-2 flex flex-wrap items-center gap-2">
            <Badge value={task.state} />
            {s.outcome && <Badge value={s.outcome} />}
            <button type="button" className="btn-secondary ml-auto py-0.5 text-xs" onClick={() => setTick((t) => t + 1)}>
              {loading ? <Spinner className="h-3 w-3" /> : null} Refresh
            </button>
          </div>
          <dl>
            <Row label="Target">{task.target ? <ExtLink href={task.target} /> : null}</Row>
            <Row label="Stage">{task.stage}</Row>
            <Row label="Attempt">{task.attempt ? String(task.attempt) : null}</Row>
            <Row label="Worker">{task.worker}</Row>
            <Row label="Updated">{task.updated ? formatTime(task.updated) : null}</Row>
            <Row label="Error">{task.error ? <span className="text-rose-700 dark:text-rose-300">{task.error}</span> : null}</Row>
            {task.handoff && (
              <Row label="Hand-off">
                {task.handoff.status}
                {task.handoff.completed_at ? ` at ${formatTime(task.handoff.completed_at)}` : ''}
                {task.handoff.note ? ` — ${task.handoff.note}` : ''}
              </Row>
            )}
          </dl>

          {enrich && (
            <Section title="Enrichment">
              {enrich.skipped ? (
                <p className="text-sm text-slate-500">Skipped{typeof enrich.reason === 'string' ? `: ${enrich.reason}` : ''}</p>
              ) : (
                <pre className="max-h-40 overflow-auto rounded bg-slate-50 p-2 text-xs dark:bg-slate-800">
                  {JSON.stringify(enrich.company_info ?? enrich, null, 2)}
                </pre>
              )}
            </Section>
          )}

          {s.message && (
            <Section title="Message sent">
              <div className="relative">
                <pre className="max-h-56 overflow-auto whitespace-pre-wrap break-words rounded bg-slate-50 p-2 pr-16 font-sans text-sm dark:bg-slate-800">
                  {s.message}
                </pre>
                <CopyButton text={s.message} label="Copy the message" className="absolute right-1 top-1" />
              </div>
              {compose && (
                <p className="mt-1 text-xs text-slate-500">
                  {[
                    typeof compose.provider === 'string' ? compose.provider : null,
                    typeof compose.model === 'string' ? compose.model : null,
                    compose.cached ? 'cached' : null,
                    compose.fallback ? `fallback${typeof compose.fallback_reason === 'string' ? `: ${compose.fallback_reason}` : ''}` : null,
                  ]
                    .filter(Boolean)
                    .join(' · ')}
                </p>
              )}
            </Section>
          )}

          {submit && (
            <Section title="Submission">
              <dl>
                <Row label="Outcome">
                  {s.outcome}
                  {s.would ? ` (a real run would: ${s.would})` : ''}
                </Row>
                <Row label="Reason">{s.reason}</Row>
                <Row label="Detail">{s.detail}</Row>
                <Row label="Page">{s.pageUrl ? <ExtLink href={s.pageUrl} /> : null}</Row>
                <Row label="Form">
                  {form ? [form.method, form.action, form.enctype].filter((x) => typeof x === 'string').join(' ') : null}
                </Row>
                <Row label="Why this form">{typeof form?.why === 'string' ? form.why : null}</Row>
                <Row label="HTTP status">{typeof ev?.status === 'number' ? String(ev.status) : null}</Row>
                <Row label="Final URL">{typeof ev?.final_url === 'string' ? <ExtLink href={ev.final_url} /> : null}</Row>
                <Row label="Errors">{Array.isArray(ev?.errors) ? (ev.errors as string[]).join('; ') : typeof ev?.error === 'string' ? ev.error : null}</Row>
                <Row label="CAPTCHA">{typeof captcha?.kind === 'string' ? captcha.kind : null}</Row>
              </dl>
              {typeof ev?.excerpt === 'string' && (
                <blockquote className="mt-1 border-l-2 border-slate-300 pl-2 text-xs text-slate-600 dark:border-slate-600 dark:text-slate-300">
                  {ev.excerpt}
                </blockquote>
              )}
              {typeof captcha?.evidence === 'string' && (
                <pre className="mt-1 max-h-24 overflow-auto rounded bg-slate-50 p-2 text-xs dark:bg-slate-800">{captcha.evidence}</pre>
              )}
              {request && (
                <p className="mt-2 text-xs text-slate-500">
                  Would send: {[request.method, request.url, request.enctype].filter((x) => typeof x === 'string').join(' ')}
                </p>
              )}
              <div className="mt-2">
                <Fields list={(Array.isArray(request?.fields) ? request.fields : Array.isArray(submit.fields) ? submit.fields : []) as FormField[]} />
              </div>
            </Section>
          )}

          <details className="mt-4 text-xs">
            <summary className="cursor-pointer text-slate-500">Raw record</summary>
            <pre className="mt-1 max-h-80 overflow-auto rounded bg-slate-50 p-2 dark:bg-slate-800">{JSON.stringify(task, null, 2)}</pre>
          </details>
        </div>
      )}
    </Dialog>
  );
}
