import { useState } from 'react';
import { useApi } from '../../hooks/useApi';
import { linkClick } from '../../hooks/useRoute';
import { api, ApiError, errorMessage, isBannerError } from '../../services/api';
import type { Handoff, HandoffField } from '../../types';
import { cn, formatNumber, formatTime } from '../../utils/utils';
import CopyButton from '../UI/CopyButton';
import ErrorMessage from '../UI/ErrorMessage';
import PageHeader from '../UI/PageHeader';
import Spinner from '../UI/Spinner';
import { PagerButtons } from '../UI/PagerButtons';

const PAGE = 20;
const REFRESH_MS = 5000;

/** Fields a person does not type: the page sets hidden ones itself; a honeypot must stay empty. */
const NOT_TYPED = new Set(['hidden', 'submit', 'captcha']);

const CAPTCHA_NAMES: Record<string, string> = {
  recaptcha_v2: 'reCAPTCHA v2',
  recaptcha_v3: 'reCAPTCHA v3',
  hcaptcha: 'hCaptcha',
  turnstile: 'Cloudflare Turnstile',
  friendly_captcha: 'Friendly Captcha',
  math: 'maths question',
  image: 'image challenge',
};

function safeHref(u: string | null | undefined): string | null {
  return u && /^https?:\/\//i.test(u) ? u : null;
}

function FieldRow({ f }: { f: HandoffField }) {
  const multiline = (f.value ?? '').includes('\n') || (f.value ?? '').length > 80;
  const honeypot = f.kind === 'honeypot';
  return (
    <li className="grid grid-cols-1 gap-1 py-2 sm:grid-cols-[12rem_minmax(0,1fr)_auto] sm:items-start sm:gap-3">
      <div className="min-w-0 text-sm">
        <div className="truncate font-medium" title={f.label ?? f.name}>
          {f.label || f.name}
        </div>
        <div className="truncate text-xs text-slate-500">
          <code>{f.name}</code>
          {f.kind ? ` · ${f.kind.replace(/_/g, ' ')}` : ''}
        </div>
      </div>
      {honeypot ? (
        <p className="text-sm text-amber-700 dark:text-amber-300">Leave this field empty: it is a trap for robots.</p>
      ) : (
        <div
          className={cn(
            'min-w-0 rounded border border-slate-200 bg-slate-50 px-2 py-1 text-sm dark:border-slate-700 dark:bg-slate-800',
            multiline ? 'max-h-40 overflow-auto whitespace-pre-wrap break-words' : 'truncate',
          )}
          title={multiline ? undefined : f.value}
        >
          {f.value || <span className="text-slate-400">(empty)</span>}
        </div>
      )}
      {!honeypot && (
        <CopyButton text={f.value ?? ''} label={`Copy ${f.label || f.name}`} testId={`handoff-copy-${f.name}`} />
      )}
    </li>
  );
}

function HandoffCard({
  h,
  note,
  onNote,
  onDone,
}: {
  h: Handoff;
  note: string;
  onNote: (v: string) => void;
  onDone: (id: string) => void;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const captcha = (h.captcha ?? null) as { kind?: string; evidence?: string } | null;
  const form = (h.form ?? null) as { action?: string; method?: string; enctype?: string; why?: string } | null;
  const fields = h.fields ?? [];
  const typed = fields.filter((f) => !NOT_TYPED.has(f.kind ?? ''));
  const hidden = fields.filter((f) => NOT_TYPED.has(f.kind ?? ''));
  const href = safeHref(h.page_url) ?? safeHref(h.target);
  const jobPath = `/jobs/${encodeURIComponent(h.job_id)}`;

  const done = async () => {
    setBusy(true);
    setError(null);
    try {
      await api.completeHandoff(h.id, note.trim() || undefined);
      onDone(h.id);
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) {
        const at = typeof e.problem.completed_at === 'string' ? ` at ${formatTime(e.problem.completed_at)}` : '';
        setError(`Already completed${at}.`);
        onDone(h.id);
      } else if (e instanceof ApiError && e.status === 404) {
        setError('This hand-off is no longer open (completed elsewhere, or its job expired).');
        onDone(h.id);
      } else setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <li className="card" data-testid="handoff-row" data-id={h.id}>
      <div className="flex flex-wrap items-start justify-between gap-3">
        <div className="min-w-0">
          <h2 className="truncate text-base font-semibold" title={h.target ?? undefined}>
            {h.target ?? h.page_url ?? h.id}
          </h2>
          <p className="mt-0.5 text-xs text-slate-500">
            <a href={jobPath} onClick={(e) => linkClick(e, jobPath)} className="text-indigo-600 hover:underline dark:text-indigo-400">
              {h.job_id}
            </a>{' '}
            · task {h.task} · handed off {formatTime(h.created)}
          </p>
        </div>
        {href ? (
          <a
            href={href}
            target="_blank"
            rel="noopener noreferrer"
            data-testid="handoff-open"
            className="btn-primary shrink-0"
          >
            Open the form ↗
          </a>
        ) : (
          <span className="text-sm text-slate-500">No page URL</span>
        )}
      </div>

      <div className="mt-3 flex flex-wrap items-center gap-2 text-sm">
        <span className="inline-flex items-center rounded-full bg-orange-100 px-2 py-0.5 text-xs font-medium text-orange-800 dark:bg-orange-900/50 dark:text-orange-300">
          {captcha?.kind ? (CAPTCHA_NAMES[captcha.kind] ?? captcha.kind) : 'CAPTCHA'}
        </span>
        {h.detail && <span className="text-slate-600 dark:text-slate-300">{h.detail}</span>}
      </div>
      {href && (
        <p className="mt-1 break-all text-xs text-slate-500">
          Page: {href}
          {form?.action && form.action !== href ? ` · posts to ${form.method ?? 'POST'} ${form.action}` : ''}
        </p>
      )}

      <h3 className="mt-4 text-xs font-semibold uppercase tracking-wide text-slate-500">Values to paste</h3>
      <ul className="divide-y divide-slate-100 dark:divide-slate-800">
        {typed.map((f, i) => (
          <FieldRow key={`${f.name}-${i}`} f={f} />
        ))}
        {!typed.length && <li className="py-2 text-sm text-slate-500">The worker filled no visible field.</li>}
      </ul>

      {(hidden.length > 0 || captcha?.evidence || form?.why) && (
        <details className="mt-2 text-xs text-slate-600 dark:text-slate-300">
          <summary className="cursor-pointer text-slate-500">More: hidden fields, the CAPTCHA's markup, why this form</summary>
          {hidden.length > 0 && (
            <ul className="mt-1 space-y-0.5">
              {hidden.map((f, i) => (
                <li key={`${f.name}-${i}`}>
                  <code>{f.name}</code> = <code className="break-all">{f.value}</code> <span className="text-slate-400">({f.kind}; the page sets it)</span>
                </li>
              ))}
            </ul>
          )}
          {captcha?.evidence && <pre className="mt-1 max-h-24 overflow-auto rounded bg-slate-50 p-2 dark:bg-slate-800">{captcha.evidence}</pre>}
          {form?.why && <p className="mt-1">{form.why}</p>}
        </details>
      )}

      <form
        className="mt-4 flex flex-col gap-2 border-t border-slate-100 pt-3 sm:flex-row sm:items-end dark:border-slate-800"
        onSubmit={(e) => {
          e.preventDefault();
          void done();
        }}
      >
        <label className="min-w-0 flex-1">
          <span className="label">Note (optional)</span>
          <input
            className="input"
            maxLength={2000}
            value={note}
            onChange={(e) => onNote(e.target.value)}
            placeholder="e.g. sent by hand, CAPTCHA solved"
            data-testid="handoff-note"
          />
        </label>
        <button type="submit" className="btn-primary justify-center" disabled={busy} data-testid="handoff-done">
          {busy ? <Spinner className="h-3 w-3" /> : '✓'} Mark done
        </button>
      </form>
      {error && (
        <p role="alert" className="mt-2 text-sm text-rose-700 dark:text-rose-300">
          {error}
        </p>
      )}
    </li>
  );
}

export default function HandoffsPage() {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const cursor = cursors[cursors.length - 1];
  const [auto, setAuto] = useState(true);
  const [notes, setNotes] = useState<Record<string, string>>({});
  const [gone, setGone] = useState<Set<string>>(new Set());
  const [flash, setFlash] = useState<string | null>(null);

  const { data, error, loading, reload } = useApi(
    (signal) => api.listHandoffs({ limit: PAGE, cursor }, signal),
    [cursor],
    auto ? REFRESH_MS : undefined,
  );
  const items = (data?.items ?? []).filter((h) => !gone.has(h.id));

  const onDone = (id: string) => {
    setGone((g) => new Set(g).add(id));
    setFlash(`Hand-off ${id} marked done.`);
    setNotes(({ [id]: _, ...rest }) => rest);
    reload();
  };

  return (
    <section>
      <PageHeader title="Hand-offs">
        <span className="text-sm text-slate-500" data-testid="handoffs-total">
          {data?.total != null ? `${formatNumber(data.total)} open` : ''}
        </span>
        <label className="flex items-center gap-1.5 text-sm text-slate-600 dark:text-slate-300">
          <input type="checkbox" checked={auto} onChange={(e) => setAuto(e.target.checked)} className="rounded" />
          Auto-refresh
        </label>
        <button type="button" className="btn-secondary" onClick={reload} disabled={loading}>
          {loading ? <Spinner className="h-3 w-3" /> : null} Refresh
        </button>
      </PageHeader>
      <p className="mb-4 max-w-3xl text-sm text-slate-600 dark:text-slate-300">
        Forms guarded by a CAPTCHA are never solved by the workers: they wait here for a person. Open the form, paste each
        value, solve the CAPTCHA and send it, then mark the hand-off done.
      </p>
      {flash && (
        <p role="status" className="mb-3 text-sm text-emerald-700 dark:text-emerald-300">
          {flash}
        </p>
      )}
      <ErrorMessage error={isBannerError(error) ? null : error} className="mb-3" onRetry={reload} />

      {loading && !data ? (
        <p className="flex items-center gap-2 text-sm text-slate-500">
          <Spinner /> Loading…
        </p>
      ) : items.length ? (
        <ul className="space-y-4" data-testid="handoffs-list">
          {items.map((h) => (
            <HandoffCard
              key={h.id}
              h={h}
              note={notes[h.id] ?? ''}
              onNote={(v) => setNotes((n) => ({ ...n, [h.id]: v }))}
              onDone={onDone}
            />
          ))}
        </ul>
      ) : (
        !error && (
          <div className="card py-10 text-center text-sm text-slate-500" data-testid="handoffs-empty">
            No open hand-off. Tasks that meet a CAPTCHA appear here.
          </div>
        )
      )}

      {(cursors.length > 1 || data?.nextCursor) && (
        <div className="mt-4 flex justify-end gap-2">
          <PagerButtons
            depth={cursors.length}
            next={data?.nextCursor}
            onPrev={() => setCursors((c) => c.slice(0, -1))}
            onNext={(n) => setCursors((c) => [...c, n])}
          />
        </div>
      )}
    </section>
  );
}
