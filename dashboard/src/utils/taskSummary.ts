/*
 * What a job's task row shows, read from the task's stage results (GET /api/jobs/{id}/tasks):
 * the submit stage's outcome (workers/form/README.md: submitted, dry_run, captcha_required,
 * skipped, failed, uncertain; with reason and detail), its evidence, and the message sent (the
 * compose stage's `message`, else the message field of what was posted or would have been).
 */

export interface FormField {
  name?: string;
  kind?: string;
  label?: string | null;
  value?: string;
}

export interface TaskSummary {
  outcome: string | null;
  reason: string | null;
  detail: string | null;
  /** one line: HTTP status, final URL, excerpt, CAPTCHA kind */
  evidence: string | null;
  message: string | null;
  /** the page where the form is */
  pageUrl: string | null;
  /** dry run: what a real run would do */
  would: string | null;
  /** enrichment: the company's name, or why it was skipped */
  enrich: string | null;
}

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj | null {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : null;
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

function fields(v: unknown): FormField[] {
  return Array.isArray(v) ? (v.filter((f) => obj(f)) as FormField[]) : [];
}

/** The value of the form's message field among fields, or null. */
export function messageField(list: FormField[]): string | null {
  const f = list.find((x) => x.kind === 'message') ?? list.find((x) => /message|comment|enquiry|inquiry/i.test(x.name ?? ''));
  return f ? (str(f.value) ?? null) : null;
}

export function oneLine(s: string, max = 160): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

export function summarizeTask(results: unknown, error?: string | null): TaskSummary {
  const r = obj(results) ?? {};
  const submit = obj(r.submit);
  const compose = obj(r.compose);
  const enrich = obj(r.enrich);
  let evidence: string | null = null;
  const ev = obj(submit?.evidence);
  const captcha = obj(submit?.captcha);
  if (ev) {
    const parts: string[] = [];
    if (typeof ev.status === 'number') parts.push(`HTTP ${ev.status}`);
    if (str(ev.final_url)) parts.push(String(ev.final_url));
    if (str(ev.error)) parts.push(String(ev.error));
    if (Array.isArray(ev.errors) && ev.errors.length) parts.push(ev.errors.filter((x) => typeof x === 'string').join('; '));
    if (str(ev.excerpt)) parts.push(`“${oneLine(String(ev.excerpt), 120)}”`);
    evidence = parts.length ? parts.join(' · ') : null;
  }
  if (captcha) {
    const k = str(captcha.kind);
    evidence = [k ? `CAPTCHA: ${k}` : 'CAPTCHA', evidence].filter(Boolean).join(' · ');
  }
  const request = obj(submit?.request);
  const message =
    str(compose?.message) ?? messageField(fields(request?.fields)) ?? messageField(fields(submit?.fields)) ?? null;
  let enrichText: string | null = null;
  if (enrich) {
    if (enrich.skipped) enrichText = `skipped${str(enrich.reason) ? `: ${enrich.reason}` : ''}`;
    else {
      const ci = obj(enrich.company_info);
      enrichText = str(ci?.name) ?? str(enrich.domain) ?? 'enriched';
    }
  }
  let reason = str(submit?.reason);
  let detail = str(submit?.detail);
  if (!submit && error) {
    // no submit result (an earlier stage failed, or the task is still going): the task's error
    const i = error.indexOf(': ');
    reason = i > 0 ? error.slice(0, i) : null;
    detail = i > 0 ? error.slice(i + 2) : error;
  }
  return {
    outcome: str(submit?.outcome),
    reason,
    detail,
    evidence,
    message,
    pageUrl: str(submit?.page_url),
    would: str(submit?.would),
    enrich: enrichText,
  };
}
