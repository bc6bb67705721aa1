import { useState, type FormEvent } from 'react';
import { useApi } from '../../hooks/useApi';
import { api, isBannerError } from '../../services/api';
import type { McpEnrichResponse, McpServer } from '../../types';
import { infoText, mcpHint, normalizeDomainInput, schemaParams } from '../../utils/enrich';
import { cn } from '../../utils/utils';
import CopyButton from '../UI/CopyButton';
import ErrorMessage from '../UI/ErrorMessage';
import Spinner from '../UI/Spinner';

const BREAKER: Record<string, string> = {
  closed: 'bg-emerald-100 text-emerald-800 dark:bg-emerald-900/50 dark:text-emerald-300',
  half_open: 'bg-amber-100 text-amber-800 dark:bg-amber-900/50 dark:text-amber-300',
  open: 'bg-rose-100 text-rose-800 dark:bg-rose-900/50 dark:text-rose-300',
};

function Pill({ children, className }: { children: React.ReactNode; className?: string }) {
  return (
    <span className={cn('inline-flex items-center rounded-full px-2 py-0.5 text-xs font-medium', className ?? 'bg-slate-100 text-slate-700 dark:bg-slate-800 dark:text-slate-300')}>
      {children}
    </span>
  );
}

function Hint({ error }: { error: unknown }) {
  const h = mcpHint(error);
  return h ? <p className="mt-1 text-sm text-slate-600 dark:text-slate-300">{h}</p> : null;
}

function ServerCard({ s }: { s: McpServer }) {
  const tools = s.tools ?? [];
  const pipeline = Object.entries(s.pipeline ?? {});
  return (
    <li className="rounded-md border border-slate-200 p-3 dark:border-slate-700" data-testid="mcp-server" data-name={s.name}>
      <div className="flex flex-wrap items-center gap-2">
        <h3 className="font-semibold">{s.name}</h3>
        {s.transport && <Pill>{s.transport}</Pill>}
        {s.breaker_state && <Pill className={BREAKER[s.breaker_state]}>breaker {s.breaker_state.replace('_', '-')}</Pill>}
      </div>
      {pipeline.length > 0 && (
        <p className="mt-1 text-xs text-slate-500">
          Pipeline:{' '}
          {pipeline.map(([k, v], i) => (
            <span key={k}>
              {i ? ', ' : ''}
              {k} → <code>{v}</code>
            </span>
          ))}
        </p>
      )}
      {s.error ? (
        <p role="alert" className="mt-2 text-sm text-rose-700 dark:text-rose-300" data-testid="mcp-server-error">
          {s.error}
        </p>
      ) : (
        <ul className="mt-2 max-h-96 space-y-2 overflow-auto pr-1">
          {tools.map((t) => {
            const params = schemaParams(t.inputSchema);
            return (
              <li key={t.name} className="text-sm" data-testid="mcp-tool">
                <code className="font-semibold">{t.name}</code>
                {params.length > 0 && (
                  <span className="ml-1 text-xs text-slate-500">
                    (
                    {params.map((p, i) => (
                      <span key={p.name} title={p.description}>
                        {i ? ', ' : ''}
                        {p.name}
                        {p.required ? '' : '?'}: {p.type}
                      </span>
                    ))}
                    )
                  </span>
                )}
                {t.description && <p className="text-xs text-slate-600 dark:text-slate-400">{t.description}</p>}
              </li>
            );
          })}
          {!tools.length && <li className="text-sm text-slate-500">No tool listed.</li>}
        </ul>
      )}
    </li>
  );
}

export function McpServers() {
  const { data, error, loading, reload } = useApi((signal) => api.mcpTools(signal), []);
  const servers = data?.servers ?? [];
  return (
    <div className="card" data-testid="mcp-servers">
      <div className="mb-3 flex items-center justify-between">
        <h2 className="text-base font-semibold">MCP servers and tools</h2>
        <button type="button" className="btn-secondary py-1" onClick={reload} disabled={loading}>
          {loading ? <Spinner className="h-3 w-3" /> : null} Refresh
        </button>
      </div>
      {error && !isBannerError(error) ? (
        <>
          <ErrorMessage error={error} onRetry={reload} />
          <Hint error={error} />
        </>
      ) : null}
      {loading && !data ? (
        <p className="flex items-center gap-2 text-sm text-slate-500">
          <Spinner /> Asking the mcp worker…
        </p>
      ) : data && !servers.length ? (
        <p className="text-sm text-slate-500">
          No MCP server is configured: runs skip enrichment. Set <code>MCP_SERVERS</code> (or <code>MCP_SERVER_URL</code>,{' '}
          <code>MCP_SERVER_COMMAND</code>) for the mcp worker.
        </p>
      ) : (
        <ul className="space-y-3">
          {servers.map((s) => (
            <ServerCard key={s.name} s={s} />
          ))}
        </ul>
      )}
    </div>
  );
}

export function CompanyLookup() {
  const [input, setInput] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [result, setResult] = useState<McpEnrichResponse | null>(null);
  const domain = normalizeDomainInput(input);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!domain) return;
    setBusy(true);
    setError(null);
    try {
      setResult(await api.mcpEnrich(domain));
    } catch (err) {
      setResult(null);
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const info = result?.company_info ?? {};
  return (
    <div className="card">
      <h2 className="mb-3 text-base font-semibold">Company look-up</h2>
      <form onSubmit={submit} className="flex flex-col gap-2 sm:flex-row sm:items-end">
        <label className="min-w-0 flex-1">
          <span className="label">Domain</span>
          <input
            className="input"
            value={input}
            onChange={(e) => setInput(e.target.value)}
            placeholder="acme.example"
            autoComplete="off"
            spellCheck={false}
            data-testid="enrich-domain"
          />
        </label>
        <button type="submit" className="btn-primary justify-center" disabled={!domain || busy} data-testid="enrich-submit">
          {busy ? <Spinner className="h-3 w-3" /> : null} Look up
        </button>
      </form>
      {domain && domain !== input.trim() && <p className="mt-1 text-xs text-slate-500">Looks up {domain}</p>}
      {error ? (
        <div className="mt-3" data-testid="enrich-error">
          <ErrorMessage error={error} />
          <Hint error={error} />
        </div>
      ) : null}
      {result && (
        <div className="mt-4" data-testid="enrich-result">
          <div className="mb-2 flex flex-wrap items-center gap-2 text-sm">
            <strong>{result.domain}</strong>
            {result.server && <Pill>server {result.server}</Pill>}
            {result.tool && <Pill>tool {result.tool}</Pill>}
            {result.cached && <Pill className="bg-sky-100 text-sky-800 dark:bg-sky-900/50 dark:text-sky-300">cached</Pill>}
            <CopyButton text={JSON.stringify(info, null, 2)} label="Copy the company's facts as JSON" className="ml-auto" />
          </div>
          {Object.keys(info).length ? (
            <dl className="divide-y divide-slate-100 rounded-md border border-slate-200 text-sm dark:divide-slate-800 dark:border-slate-700">
              {Object.entries(info).map(([k, v]) => {
                const t = infoText(v);
                return (
                  <div key={k} className="grid grid-cols-[9rem_minmax(0,1fr)] gap-2 px-3 py-1.5">
                    <dt className="text-slate-500">{k.replace(/_/g, ' ')}</dt>
                    <dd className="min-w-0 break-words">
                      {t ?? <pre className="max-h-40 overflow-auto text-xs">{JSON.stringify(v, null, 2)}</pre>}
                    </dd>
                  </div>
                );
              })}
            </dl>
          ) : (
            <p className="text-sm text-slate-500">The server knows nothing about this domain.</p>
          )}
        </div>
      )}
    </div>
  );
}
