import { Suspense, useCallback, useEffect, useState, type ReactNode } from 'react';
import { NAV_ITEMS } from './constants/dashboard';
import { useTheme } from './contexts/ThemeContext';
import { linkClick, useRoute, type Route } from './hooks/useRoute';
import { api, onApiStatus, type ApiStatus } from './services/api';
import ApiBanner from './components/UI/ApiBanner';
import ApiKeyField from './components/UI/ApiKeyField';
import Spinner from './components/UI/Spinner';
import ProspectsPage from './components/Dashboard/ProspectsPage';
import { cn } from './utils/utils';
import { lazyPage } from './utils/lazyPage';
import ErrorBoundary from './components/UI/ErrorBoundary';

// The first page (Prospects) is in the main bundle; the others load on demand.
// Their chunks are fetched once the browser is idle, so that a later click does not wait.
const CampaignsPage = lazyPage(() => import('./components/Dashboard/CampaignsPage'));
const RunPage = lazyPage(() => import('./components/Dashboard/RunPage'));
const JobsPage = lazyPage(() => import('./components/Dashboard/JobsPage'));
const JobPage = lazyPage(() => import('./components/Dashboard/JobPage'));
const HandoffsPage = lazyPage(() => import('./components/Dashboard/HandoffsPage'));
const WorkersPage = lazyPage(() => import('./components/Dashboard/WorkersPage'));
const EnrichmentPage = lazyPage(() => import('./components/Dashboard/EnrichmentPage'));
const LAZY_PAGES = [CampaignsPage, RunPage, JobsPage, JobPage, HandoffsPage, WorkersPage, EnrichmentPage];

function preloadPages() {
  const go = () => LAZY_PAGES.forEach((p) => p.preload());
  const w = window as Window & { requestIdleCallback?: (cb: () => void, o?: { timeout: number }) => number };
  if (w.requestIdleCallback) w.requestIdleCallback(go, { timeout: 3000 });
  else setTimeout(go, 1500);
}

function pageFor(route: Route): ReactNode {
  switch (route.page) {
    case 'prospects':
      return <ProspectsPage />;
    case 'campaigns':
      return <CampaignsPage />;
    case 'run':
      return <RunPage />;
    case 'jobs':
      return <JobsPage />;
    case 'job':
      return <JobPage id={route.params.id} />;
    case 'handoffs':
      return <HandoffsPage />;
    case 'workers':
      return <WorkersPage />;
    case 'enrichment':
      return <EnrichmentPage />;
    default:
      return (
        <section>
          <h1 className="text-xl font-semibold">Not found</h1>
          <p className="mt-2 text-sm text-slate-500">No page at {route.path}.</p>
        </section>
      );
  }
}

function ThemeToggle() {
  const { theme, toggle } = useTheme();
  return (
    <button
      type="button"
      data-testid="theme-toggle"
      onClick={toggle}
      className="btn-secondary py-1"
      aria-label={theme === 'dark' ? 'Switch to the light theme' : 'Switch to the dark theme'}
      title={theme === 'dark' ? 'Light theme' : 'Dark theme'}
    >
      {theme === 'dark' ? '☀' : '☾'}
    </button>
  );
}

export default function App() {
  const route = useRoute();
  const [status, setStatus] = useState<ApiStatus>({ kind: 'ok' });
  // Bumped by "Retry" and by a new API key: the page is mounted again and fetches again.
  const [reloadKey, setReloadKey] = useState(0);

  useEffect(
    () =>
      onApiStatus((s) => {
        if (s.kind === 'key-changed') {
          setStatus({ kind: 'ok' });
          setReloadKey((k) => k + 1);
        } else setStatus((prev) => (prev.kind === s.kind && s.kind === 'ok' ? prev : s));
      }),
    [],
  );

  useEffect(preloadPages, []);

  const retry = useCallback(() => {
    // The page mounts again and its requests tell the banner how it went; a page that asks
    // nothing clears "unreachable" when the gateway answers its health check.
    api
      .health()
      .then(() => setStatus((s) => (s.kind === 'unreachable' ? { kind: 'ok' } : s)))
      .catch(() => undefined);
    setReloadKey((k) => k + 1);
  }, []);

  const active = route.page === 'job' ? 'jobs' : route.page;
  const pageKey = `${route.page}:${route.params.id ?? ''}:${reloadKey}`;

  return (
    <div className="flex min-h-screen flex-col md:flex-row">
      <nav
        aria-label="Main"
        className="flex shrink-0 flex-col border-b border-slate-200 bg-white md:w-56 md:border-b-0 md:border-r dark:border-slate-800 dark:bg-slate-900"
      >
        <a
          href="/"
          onClick={(e) => linkClick(e, '/')}
          className="px-4 py-4 text-lg font-bold tracking-tight text-indigo-600 dark:text-indigo-400"
        >
          Prospect AI
        </a>
        <ul className="flex flex-row flex-wrap gap-1 px-2 pb-2 md:flex-col md:flex-nowrap">
          {NAV_ITEMS.map((n) => (
            <li key={n.key}>
              <a
                href={n.path}
                data-testid={n.testId}
                aria-current={active === n.key ? 'page' : undefined}
                onClick={(e) => linkClick(e, n.path)}
                className={cn(
                  'block rounded-md px-3 py-2 text-sm font-medium',
                  active === n.key
                    ? 'bg-indigo-50 text-indigo-700 dark:bg-indigo-950 dark:text-indigo-300'
                    : 'text-slate-600 hover:bg-slate-100 dark:text-slate-300 dark:hover:bg-slate-800',
                )}
              >
                {n.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <div className="flex min-w-0 flex-1 flex-col">
        <header className="flex flex-wrap items-center justify-end gap-2 border-b border-slate-200 bg-white px-4 py-2 dark:border-slate-800 dark:bg-slate-900">
          <ApiKeyField />
          <ThemeToggle />
        </header>
        <ApiBanner status={status} onRetry={retry} />
        <main className="min-w-0 flex-1 p-4 md:p-6">
          {/* Keyed by page and by Retry / a new API key: the page mounts again and fetches again. */}
          <ErrorBoundary key={pageKey} onRetry={retry}>
            <Suspense
              fallback={
                <div className="flex items-center gap-2 text-sm text-slate-500">
                  <Spinner /> Loading…
                </div>
              }
            >
              <div key={pageKey}>{pageFor(route)}</div>
            </Suspense>
          </ErrorBoundary>
        </main>
      </div>
    </div>
  );
}
