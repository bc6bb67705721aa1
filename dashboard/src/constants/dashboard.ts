import type { PageKey } from '../hooks/useRoute';

export interface NavItem {
  key: Exclude<PageKey, 'job' | 'not-found'>;
  label: string;
  path: string;
  testId: string;
}

export const NAV_ITEMS: readonly NavItem[] = [
  { key: 'prospects', label: 'Prospects', path: '/prospects', testId: 'nav-prospects' },
  { key: 'campaigns', label: 'Campaigns', path: '/campaigns', testId: 'nav-campaigns' },
  { key: 'run', label: 'Run a campaign', path: '/run', testId: 'nav-run' },
  { key: 'jobs', label: 'Jobs', path: '/jobs', testId: 'nav-jobs' },
  { key: 'handoffs', label: 'Hand-offs', path: '/handoffs', testId: 'nav-handoffs' },
  { key: 'workers', label: 'Workers & queues', path: '/workers', testId: 'nav-workers' },
  { key: 'enrichment', label: 'Enrichment & opt-outs', path: '/enrichment', testId: 'nav-enrichment' },
];

export const PAGE_SIZES = [25, 50, 100, 250] as const;
export const DEFAULT_PAGE_SIZE = 50;
export const SEARCH_DEBOUNCE_MS = 300;

/** Tailwind classes per prospect status / task state / job status (badges). */
export const STATUS_COLORS: Record<string, string> = {
  new: 'bg-slate-100 text-slate-700 dark:bg-slate-800 dark:text-slate-300',
  researching: 'bg-sky-100 text-sky-800 dark:bg-sky-900/50 dark:text-sky-300',
  contacted: 'bg-indigo-100 text-indigo-800 dark:bg-indigo-900/50 dark:text-indigo-300',
  replied: 'bg-violet-100 text-violet-800 dark:bg-violet-900/50 dark:text-violet-300',
  qualified: 'bg-emerald-100 text-emerald-800 dark:bg-emerald-900/50 dark:text-emerald-300',
  disqualified: 'bg-rose-100 text-rose-800 dark:bg-rose-900/50 dark:text-rose-300',
  queued: 'bg-slate-100 text-slate-700 dark:bg-slate-800 dark:text-slate-300',
  running: 'bg-sky-100 text-sky-800 dark:bg-sky-900/50 dark:text-sky-300',
  succeeded: 'bg-emerald-100 text-emerald-800 dark:bg-emerald-900/50 dark:text-emerald-300',
  completed: 'bg-emerald-100 text-emerald-800 dark:bg-emerald-900/50 dark:text-emerald-300',
  failed: 'bg-rose-100 text-rose-800 dark:bg-rose-900/50 dark:text-rose-300',
  retry_wait: 'bg-amber-100 text-amber-800 dark:bg-amber-900/50 dark:text-amber-300',
  captcha_required: 'bg-orange-100 text-orange-800 dark:bg-orange-900/50 dark:text-orange-300',
  skipped: 'bg-slate-200 text-slate-700 dark:bg-slate-700 dark:text-slate-300',
  uncertain: 'bg-yellow-100 text-yellow-800 dark:bg-yellow-900/50 dark:text-yellow-300',
  cancelled: 'bg-zinc-200 text-zinc-700 dark:bg-zinc-700 dark:text-zinc-300',
};

export const TASK_STATES = [
  'queued',
  'running',
  'retry_wait',
  'succeeded',
  'failed',
  'captcha_required',
  'skipped',
  'uncertain',
  'cancelled',
] as const;

/** Template variables a message template (and /api/llm/generate's prompt) understands. */
export const TEMPLATE_VARIABLES = [
  'first_name',
  'last_name',
  'name',
  'company',
  'title',
  'industry',
  'website',
  'email',
  'prospect_id',
  'sender.name',
  'sender.company',
  'company_info.name',
] as const;

/** Industries offered by the filter before any page was seen (the demo data's); the filter also
 * offers every industry seen in the answers and takes typed ones. */
export const KNOWN_INDUSTRIES = [
  'Agriculture',
  'Automotive',
  'Construction',
  'Cybersecurity',
  'E-commerce',
  'Education',
  'Energy',
  'Fintech',
  'Healthcare',
  'Hospitality',
  'Insurance',
  'Legal',
  'Logistics',
  'Manufacturing',
  'Marketing',
  'Media',
  'Real Estate',
  'SaaS',
] as const;
