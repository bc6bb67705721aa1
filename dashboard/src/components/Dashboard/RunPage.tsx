import { useMemo, useRef, useState, type FormEvent } from 'react';
import { useApi } from '../../hooks/useApi';
import { useProspectList } from '../../hooks/useProspectList';
import { navigate } from '../../hooks/useRoute';
import { api, ApiError, errorMessage } from '../../services/api';
import type { Prospect, RunRequest } from '../../types';
import { parseTargets, prefillForPreview, prospectVariables, urlVariables, type Variables } from '../../utils/template';
import { cn, formatNumber } from '../../utils/utils';
import ErrorMessage from '../UI/ErrorMessage';
import PageHeader from '../UI/PageHeader';
import Spinner from '../UI/Spinner';
import { ProspectFilters, ProspectPager } from './ProspectControls';
import ProspectsTable, { type Selection } from './ProspectsTable';
import SenderFields, { EMPTY_SENDER, senderOf, type SenderForm } from './SenderFields';
import TemplateEditor from './TemplateEditor';

const PREVIEW_COUNT = 3;

interface PreviewItem {
  label: string;
  output?: string;
  error?: string;
}

function newIdempotencyKey(): string {
  const c = globalThis.crypto as Crypto | undefined;
  if (c?.randomUUID) return `dash-${c.randomUUID()}`;
  return `dash-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

function ProspectPicker({
  selected,
  setSelected,
}: {
  selected: Map<string, Prospect>;
  setSelected: (m: Map<string, Prospect>) => void;
}) {
  const list = useProspectList({ pageSize: 25 });
  const selection: Selection = {
    isSelected: (id) => selected.has(id),
    toggle: (p) => {
      const m = new Map(selected);
      if (m.has(p.id)) m.delete(p.id);
      else m.set(p.id, p);
      setSelected(m);
    },
    setPage: (rows, on) => {
      const m = new Map(selected);
      for (const r of rows) {
        if (on) m.set(r.id, r);
        else m.delete(r.id);
      }
      setSelected(m);
    },
    disabledReason: (p) => (p.website ? null : 'No website: nothing to target'),
  };
  return (
    <div className="space-y-3">
      <ProspectFilters list={list} />
      {list.error != null && <ErrorMessage error={list.error} onRetry={list.reload} />}
      <ProspectsTable
        rows={list.rows}
        sort={list.sortSupported ? list.sort : null}
        onSort={list.sortSupported ? list.setSort : undefined}
        selection={selection}
        loading={list.loading}
      />
      <ProspectPager list={list} />
    </div>
  );
}

export default function RunPage() {
  const [tab, setTab] = useState<'paste' | 'pick'>('paste');
  const [pickerMounted, setPickerMounted] = useState(false);
  const [targetsText, setTargetsText] = useState('');
  const [selected, setSelected] = useState<Map<string, Prospect>>(new Map());
  const [template, setTemplate] = useState('');
  const [campaignId, setCampaignId] = useState('');
  const [enrich, setEnrich] = useState(true);
  const [personalize, setPersonalize] = useState(true);
  const [dryRun, setDryRun] = useState(true);
  const [sender, setSender] = useState<SenderForm>(EMPTY_SENDER);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [starting, setStarting] = useState(false);
  const [previews, setPreviews] = useState<PreviewItem[] | null>(null);
  const [previewing, setPreviewing] = useState(false);
  const idemKey = useRef(newIdempotencyKey());

  const campaigns = useApi((signal) => api.listCampaigns(signal), []);
  const parsed = useMemo(() => parseTargets(targetsText), [targetsText]);
  const picked = useMemo(() => [...selected.values()], [selected]);
  const total = parsed.targets.length + picked.length;

  // Anything changed after a refused start is a new request (a new Idempotency-Key).
  const touch = () => {
    idemKey.current = newIdempotencyKey();
  };

  const validate = (): Record<string, string> => {
    const e: Record<string, string> = {};
    if (total === 0) e.targets = 'Paste at least one URL or pick at least one prospect.';
    if (total > 10000) e.targets = `At most 10,000 targets (${formatNumber(total)} given).`;
    if (!template.trim()) e.message_template = 'Write the message template.';
    const s = senderOf(sender);
    if (s && (!s.name || !s.email)) e.sender = 'A sender needs both a name and an e-mail.';
    return e;
  };

  /** Where a problem's `field` points: targets[i] → the pasted line, prospect_ids[i] → the prospect. */
  const placeError = (err: ApiError): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const fe of err.errors) {
      const t = /^targets\[(\d+)\]/.exec(fe.field);
      const p = /^prospect_ids\[(\d+)\]/.exec(fe.field);
      if (t) {
        const line = parsed.lines[Number(t[1])];
        out.targets = `Line ${line ?? Number(t[1]) + 1}: ${fe.detail.replace(/^targets\[\d+\]:\s*/, '')}`;
      } else if (p) {
        const pr = picked[Number(p[1])];
        out.targets = `${pr ? `${pr.name} (${pr.id})` : fe.field}: ${fe.detail.replace(/^prospect_ids\[\d+\]:\s*/, '')}`;
      } else if (fe.field === 'targets' || fe.field === 'prospect_ids') out.targets = fe.detail;
      else out[fe.field] = fe.detail;
    }
    return out;
  };

  const preview = async () => {
    const e = validate();
    delete e.sender;
    if (e.targets || e.message_template) {
      setErrors(e);
      return;
    }
    setErrors({});
    setPreviewing(true);
    const prompt = prefillForPreview(template, senderOf(sender));
    const chosen: { label: string; vars: Variables }[] = [
      ...picked.map((p) => ({ label: `${p.name} · ${p.company}`, vars: prospectVariables(p) })),
      ...parsed.targets.map((t) => ({ label: t, vars: urlVariables(t) })),
    ].slice(0, PREVIEW_COUNT);
    const results = await Promise.all(
      chosen.map(async (c): Promise<PreviewItem> => {
        try {
          const r = await api.generate({ prompt, variables: c.vars });
          return { label: c.label, output: r.output };
        } catch (err) {
          return { label: c.label, error: errorMessage(err) };
        }
      }),
    );
    setPreviews(results);
    setPreviewing(false);
  };

  /** Brings the first message about the form into view. */
  const showProblems = () =>
    requestAnimationFrame(() =>
      document.querySelector<HTMLElement>('[data-run-problem]')?.scrollIntoView?.({ block: 'center', behavior: 'smooth' }),
    );

  const start = async (ev: FormEvent) => {
    ev.preventDefault();
    const e = validate();
    setErrors(e);
    setError(null);
    if (Object.keys(e).length) {
      showProblems();
      return;
    }
    const body: RunRequest = {
      message_template: template,
      options: { enrich, personalize, dry_run: dryRun },
    };
    if (parsed.targets.length) body.targets = parsed.targets;
    if (picked.length) body.prospect_ids = picked.map((p) => p.id);
    if (campaignId) body.campaign_id = campaignId;
    const s = senderOf(sender);
    if (s) body.sender = s;
    setStarting(true);
    try {
      const r = await api.runContactForms(body, idemKey.current);
      navigate(`/jobs/${encodeURIComponent(r.job_id)}`);
    } catch (err) {
      touch();
      if (err instanceof ApiError && err.errors.length) {
        const placed = placeError(err);
        setErrors(placed);
        const shown = Object.keys(placed).some((k) => ['targets', 'message_template', 'campaign_id'].includes(k) || k.startsWith('sender'));
        if (!shown) setError(err);
      } else setError(err);
      setStarting(false);
      showProblems();
    }
  };

  const tabClass = (on: boolean) =>
    cn(
      'rounded-md px-3 py-1.5 text-sm font-medium',
      on
        ? 'bg-white text-indigo-700 shadow-sm dark:bg-slate-700 dark:text-indigo-200'
        : 'text-slate-600 hover:text-slate-900 dark:text-slate-300 dark:hover:text-white',
    );

  return (
    <form onSubmit={start} noValidate>
      <PageHeader title="Run a campaign" />
      <div className="space-y-5">
        <section className="card" aria-labelledby="run-targets-h">
          <div className="mb-3 flex flex-wrap items-center justify-between gap-2">
            <h2 id="run-targets-h" className="text-base font-semibold">
              1. Targets
            </h2>
            <div className="inline-flex rounded-lg bg-slate-100 p-1 dark:bg-slate-800" role="tablist" aria-label="Targets from">
              <button
                type="button"
                role="tab"
                aria-selected={tab === 'paste'}
                data-testid="run-tab-paste"
                className={tabClass(tab === 'paste')}
                onClick={() => setTab('paste')}
              >
                Paste URLs{parsed.targets.length ? ` (${formatNumber(parsed.targets.length)})` : ''}
              </button>
              <button
                type="button"
                role="tab"
                aria-selected={tab === 'pick'}
                data-testid="run-tab-pick"
                className={tabClass(tab === 'pick')}
                onClick={() => {
                  setTab('pick');
                  setPickerMounted(true);
                }}
              >
                Pick prospects{picked.length ? ` (${formatNumber(picked.length)})` : ''}
              </button>
            </div>
          </div>
          <div hidden={tab !== 'paste'}>
            <label htmlFor="run-targets" className="label">
              URLs or domains, one a line
            </label>
            <textarea
              id="run-targets"
              data-testid="run-targets"
              rows={6}
              className="input font-mono"
              placeholder={'acme.example\nhttps://beta.example/contact'}
              value={targetsText}
              onChange={(e) => {
                setTargetsText(e.target.value);
                touch();
              }}
            />
          </div>
          {pickerMounted && (
            <div hidden={tab !== 'pick'}>
              <ProspectPicker
                selected={selected}
                setSelected={(m) => {
                  setSelected(m);
                  touch();
                }}
              />
            </div>
          )}
          <div className="mt-3 flex flex-wrap items-center gap-3 text-sm" aria-live="polite">
            <span data-testid="run-target-count">
              <strong>{formatNumber(total)}</strong> target{total === 1 ? '' : 's'}: {formatNumber(parsed.targets.length)} pasted,{' '}
              {formatNumber(picked.length)} prospect{picked.length === 1 ? '' : 's'} picked
            </span>
            {picked.length > 0 && (
              <button type="button" className="text-indigo-600 hover:underline dark:text-indigo-400" onClick={() => setSelected(new Map())}>
                Clear the picked prospects
              </button>
            )}
          </div>
          {errors.targets && (
            <p role="alert" data-run-problem className="mt-2 text-sm text-rose-600 dark:text-rose-400" data-testid="run-targets-error">
              {errors.targets}
            </p>
          )}
        </section>

        <section className="card space-y-3" aria-labelledby="run-message-h">
          <h2 id="run-message-h" className="text-base font-semibold">
            2. Message
          </h2>
          <div className="max-w-md">
            <label htmlFor="run-campaign" className="label">
              Campaign (optional)
            </label>
            <select
              id="run-campaign"
              data-testid="run-campaign"
              className="input"
              value={campaignId}
              onChange={(e) => {
                setCampaignId(e.target.value);
                touch();
              }}
            >
              <option value="">None</option>
              {(campaigns.data ?? []).map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name} ({c.id})
                </option>
              ))}
            </select>
            {errors.campaign_id && <p className="mt-1 text-xs text-rose-600 dark:text-rose-400">{errors.campaign_id}</p>}
          </div>
          <TemplateEditor
            value={template}
            onChange={(v) => {
              setTemplate(v);
              touch();
            }}
            error={errors.message_template}
          />
        </section>

        <section className="card space-y-3" aria-labelledby="run-options-h">
          <h2 id="run-options-h" className="text-base font-semibold">
            3. Options
          </h2>
          <div className="flex flex-wrap gap-6">
            {[
              { id: 'run-enrich', label: 'Enrich', hint: 'look each company up (MCP) first', v: enrich, set: setEnrich },
              { id: 'run-personalize', label: 'Personalise', hint: 'let the model write each message', v: personalize, set: setPersonalize },
              { id: 'run-dry-run', label: 'Dry run', hint: 'fill the forms but send nothing', v: dryRun, set: setDryRun },
            ].map((o) => (
              <label key={o.id} htmlFor={o.id} className="flex cursor-pointer items-start gap-2">
                <input
                  id={o.id}
                  data-testid={o.id}
                  type="checkbox"
                  className="mt-0.5 h-4 w-4 rounded border-slate-300 text-indigo-600"
                  checked={o.v}
                  onChange={(e) => {
                    o.set(e.target.checked);
                    touch();
                  }}
                />
                <span>
                  <span className="text-sm font-medium">{o.label}</span>
                  <span className="block text-xs text-slate-500 dark:text-slate-400">{o.hint}</span>
                </span>
              </label>
            ))}
          </div>
          <SenderFields
            value={sender}
            onChange={(v) => {
              setSender(v);
              touch();
            }}
            errors={errors}
            idPrefix="run"
          />
        </section>

        <section className="card space-y-3" aria-labelledby="run-preview-h">
          <div className="flex flex-wrap items-center justify-between gap-2">
            <h2 id="run-preview-h" className="text-base font-semibold">
              4. Preview
            </h2>
            <button type="button" className="btn-secondary" data-testid="run-preview" disabled={previewing} onClick={preview}>
              {previewing && <Spinner />} Preview for {Math.min(PREVIEW_COUNT, Math.max(total, 1))} target
              {Math.min(PREVIEW_COUNT, Math.max(total, 1)) === 1 ? '' : 's'}
            </button>
          </div>
          <p className="text-xs text-slate-500 dark:text-slate-400">
            The message for the first {PREVIEW_COUNT} targets, written by /api/llm/generate with each target&apos;s
            variables. Enrichment results are known only during the run: they show as [company_info.…].
          </p>
          {previews && (
            <ul className="space-y-2" data-testid="run-preview-results">
              {previews.map((p, i) => (
                <li key={i} data-testid="run-preview-result" className="rounded-md border border-slate-200 p-3 dark:border-slate-700">
                  <div className="mb-1 text-xs font-medium text-slate-500 dark:text-slate-400">{p.label}</div>
                  {p.output != null ? (
                    <p className="whitespace-pre-wrap text-sm">{p.output}</p>
                  ) : (
                    <p className="text-sm text-rose-600 dark:text-rose-400">{p.error}</p>
                  )}
                </li>
              ))}
            </ul>
          )}
        </section>

        {error != null && (
          <div data-run-problem>
            <ErrorMessage error={error} testId="run-error" />
          </div>
        )}
        <div className="flex flex-wrap items-center justify-end gap-3">
          <span className="text-sm text-slate-600 dark:text-slate-300">
            {dryRun ? 'Dry run: nothing is sent.' : 'Messages will be sent.'}
          </span>
          <button type="submit" className={dryRun ? 'btn-primary' : 'btn-danger'} data-testid="run-start" disabled={starting}>
            {starting && <Spinner />}
            {dryRun ? 'Start the dry run' : 'Start the campaign'} ({formatNumber(total)} target{total === 1 ? '' : 's'})
          </button>
        </div>
      </div>
    </form>
  );
}
