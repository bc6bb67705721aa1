import { useState, type FormEvent } from 'react';
import { useApi } from '../../hooks/useApi';
import { api, ApiError } from '../../services/api';
import type { Campaign } from '../../types';
import { METRICS, rate, totalsOf, type Metric } from '../../utils/campaigns';
import { formatNumber } from '../../utils/utils';
import BarChart from '../UI/BarChart';
import ErrorMessage from '../UI/ErrorMessage';
import PageHeader from '../UI/PageHeader';
import Spinner from '../UI/Spinner';
import SenderFields, { EMPTY_SENDER, senderOf, type SenderForm } from './SenderFields';

const LABEL: Record<Metric, string> = { sent: 'Sent', opens: 'Opens', clicks: 'Clicks', responses: 'Responses' };
const FILL: Record<Metric, string> = {
  sent: 'fill-slate-400 dark:fill-slate-500',
  opens: 'fill-sky-500',
  clicks: 'fill-indigo-500',
  responses: 'fill-emerald-500',
};
const RATE_LABEL = { opens: 'Open rate', clicks: 'Click rate', responses: 'Response rate' } as const;
const CHANNELS = ['contact_form', 'email', 'linkedin'] as const;

function StatCard({ metric, value, sent }: { metric: Metric; value: number; sent: number }) {
  const r = metric === 'sent' ? null : rate(value, sent);
  return (
    <div className="card" data-testid={`campaigns-total-${metric}`}>
      <div className="text-xs font-medium uppercase tracking-wide text-slate-500 dark:text-slate-400">{LABEL[metric]}</div>
      <div className="mt-1 text-2xl font-semibold tabular-nums">{formatNumber(value)}</div>
      <div className="mt-1 text-xs text-slate-500 dark:text-slate-400">{r == null ? 'all campaigns' : `${r}% of sent`}</div>
    </div>
  );
}

function CampaignCard({ c }: { c: Campaign }) {
  return (
    <article className="card flex flex-col" data-testid="campaign-card" data-id={c.id}>
      <header className="mb-2">
        <h3 className="font-semibold leading-tight">{c.name}</h3>
        <p className="mt-0.5 text-xs text-slate-500 dark:text-slate-400">
          <span className="font-mono">{c.id}</span> · {c.channel.replace('_', ' ')}
          {c.sender && <> · from {c.sender.name}</>}
        </p>
      </header>
      <BarChart title={`${c.name} stats`} bars={METRICS.map((m) => ({ label: LABEL[m], value: c[m], fill: FILL[m] }))} />
      <dl className="mt-2 grid grid-cols-3 gap-1 text-center text-xs">
        {(['opens', 'clicks', 'responses'] as const).map((m) => (
          <div key={m}>
            <dt className="text-slate-500 dark:text-slate-400">{RATE_LABEL[m]}</dt>
            <dd className="font-medium tabular-nums">{rate(c[m], c.sent) == null ? '—' : `${rate(c[m], c.sent)}%`}</dd>
          </div>
        ))}
      </dl>
    </article>
  );
}

function CreateCampaign({ onCreated, onCancel }: { onCreated: (c: Campaign) => void; onCancel: () => void }) {
  const [name, setName] = useState('');
  const [channel, setChannel] = useState<(typeof CHANNELS)[number]>('contact_form');
  const [sender, setSender] = useState<SenderForm>(EMPTY_SENDER);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const fe: Record<string, string> = {};
    if (!name.trim()) fe.name = 'A name is required.';
    const s = senderOf(sender);
    if (s && (!s.name || !s.email)) fe.sender = 'A sender needs both a name and an e-mail.';
    setFieldErrors(fe);
    if (Object.keys(fe).length) return;
    setBusy(true);
    setError(null);
    try {
      const c = await api.createCampaign({ name: name.trim(), channel, ...(s ? { sender: s } : {}) });
      onCreated(c);
    } catch (err) {
      if (err instanceof ApiError && err.errors.length) {
        const m: Record<string, string> = {};
        for (const x of err.errors) m[x.field] = x.detail;
        setFieldErrors(m);
        if (!err.errors.some((x) => ['name', 'channel'].includes(x.field) || x.field.startsWith('sender'))) setError(err);
      } else setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={submit} noValidate className="card mb-6 space-y-3" aria-label="New campaign">
      <h2 className="text-base font-semibold">New campaign</h2>
      <ErrorMessage error={error} />
      <div className="grid grid-cols-1 gap-3 sm:grid-cols-3">
        <div className="sm:col-span-2">
          <label htmlFor="campaign-name" className="label">
            Name *
          </label>
          <input
            id="campaign-name"
            data-testid="campaign-name"
            className="input"
            maxLength={200}
            value={name}
            aria-invalid={fieldErrors.name ? true : undefined}
            onChange={(e) => setName(e.target.value)}
          />
          {fieldErrors.name && <p className="mt-1 text-xs text-rose-600 dark:text-rose-400">{fieldErrors.name}</p>}
        </div>
        <div>
          <label htmlFor="campaign-channel" className="label">
            Channel
          </label>
          <select
            id="campaign-channel"
            data-testid="campaign-channel"
            className="input"
            value={channel}
            onChange={(e) => setChannel(e.target.value as (typeof CHANNELS)[number])}
          >
            {CHANNELS.map((c) => (
              <option key={c} value={c}>
                {c.replace('_', ' ')}
              </option>
            ))}
          </select>
          {fieldErrors.channel && <p className="mt-1 text-xs text-rose-600 dark:text-rose-400">{fieldErrors.channel}</p>}
        </div>
      </div>
      <SenderFields value={sender} onChange={setSender} errors={fieldErrors} idPrefix="campaign" />
      <div className="flex justify-end gap-2">
        <button type="button" className="btn-secondary" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="btn-primary" data-testid="campaign-create" disabled={busy}>
          {busy && <Spinner />} Create campaign
        </button>
      </div>
    </form>
  );
}

export default function CampaignsPage() {
  const { data, error, loading, reload } = useApi((signal) => api.listCampaigns(signal), []);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<string | null>(null);
  const campaigns = data ?? [];
  const totals = totalsOf(campaigns);

  return (
    <section>
      <PageHeader title="Campaigns">
        {!creating && (
          <button type="button" className="btn-primary" data-testid="campaigns-create-open" onClick={() => setCreating(true)}>
            New campaign
          </button>
        )}
      </PageHeader>
      {creating && (
        <CreateCampaign
          onCancel={() => setCreating(false)}
          onCreated={(c) => {
            setCreating(false);
            setCreated(c.name);
            reload();
          }}
        />
      )}
      {created && (
        <p role="status" className="mb-4 rounded-md bg-emerald-50 px-3 py-2 text-sm text-emerald-800 dark:bg-emerald-950/50 dark:text-emerald-200">
          Campaign “{created}” created.
        </p>
      )}
      {error != null && <ErrorMessage error={error} onRetry={reload} className="mb-4" />}
      <div className="mb-6 grid grid-cols-2 gap-3 lg:grid-cols-4">
        {METRICS.map((m) => (
          <StatCard key={m} metric={m} value={totals[m]} sent={totals.sent} />
        ))}
      </div>
      <h2 className="mb-3 flex items-center gap-2 text-base font-semibold">
        {formatNumber(campaigns.length)} campaigns {loading && <Spinner className="text-indigo-500" />}
      </h2>
      {!loading && campaigns.length === 0 && error == null && (
        <p className="text-sm text-slate-500">No campaign yet: create one.</p>
      )}
      <div className="grid grid-cols-1 gap-4 md:grid-cols-2 xl:grid-cols-3" data-testid="campaigns-list">
        {campaigns.map((c) => (
          <CampaignCard key={c.id} c={c} />
        ))}
      </div>
    </section>
  );
}
