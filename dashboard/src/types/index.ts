// Types the dashboard uses. Most come from the generated src/types/api.d.ts (`npm run gen:api`);
// the rest are written here where docs/openapi.json leaves a body untyped (jobs, workers) or
// the route is newer than the document (queues, dead letters, the prospects `sort`).
import type { components, operations } from './api';

type S = components['schemas'];

export type Prospect = S['Prospect'];
export type ProspectStatus = S['ProspectStatus'];
export type ProspectInput = S['ProspectInput'];
export type ProspectPatch = S['ProspectPatch'];
export type Campaign = S['Campaign'];
/** openapi-typescript marks members with a default as required; on create they are optional. */
export type CampaignInput = Pick<S['CampaignInput'], 'name'> &
  Partial<Omit<S['CampaignInput'], 'name'>>;
export type ImportResult = S['ImportResult'];
export type ImportRejectedRow = ImportResult['rejected'][number];
export type Health = S['Health'];
export type Problem = S['Problem'];
export type Sender = S['Sender'];
export type Handoff = S['Handoff'];
export type HandoffField = S['HandoffField'];
export type HandoffList = S['HandoffList'];
export type HandoffDone = S['HandoffDone'];
export type Suppression = S['Suppression'];
export type SuppressionList = S['SuppressionList'];
export type SuppressionInput = S['SuppressionInput'];
export type SuppressionResult = S['SuppressionResult'];
export type SubmitResult = S['SubmitResult'];
export type Task = S['Task'];

export const PROSPECT_STATUSES: readonly ProspectStatus[] = [
  'new',
  'researching',
  'contacted',
  'replied',
  'qualified',
  'disqualified',
] as const;

/** GET /api/prospects `sort`, as openapi.json lists it: `name` ascending, `-name` descending. */
export type ProspectSort = NonNullable<NonNullable<operations['listProspects']['parameters']['query']>['sort']>;
export type ProspectSortKey = Exclude<ProspectSort, `-${string}`>;

export interface ProspectQuery {
  search?: string;
  industry?: string[];
  status?: ProspectStatus[];
  limit?: number;
  cursor?: string | null;
  sort?: ProspectSort | null;
}

/** A run's target: a URL or bare domain, or an object with a `url` (docs/api.md "Run a campaign"). */
export type RunTarget =
  | string
  | {
      url: string;
      prospect_id?: string;
      name?: string;
      variables?: Record<string, string | number | boolean>;
    };

export interface RunOptions {
  enrich?: boolean;
  personalize?: boolean;
  dry_run?: boolean;
  stages?: ('enrich' | 'compose' | 'submit')[];
  params?: LlmParams;
  token_budget?: number;
}

/** Body of POST /api/automation/contact-forms/run (openapi.json lacks `targets`/`prospect_ids`). */
export interface RunRequest {
  campaign_id?: string;
  message_template: string;
  sender?: Sender;
  targets?: RunTarget[];
  prospect_ids?: string[];
  options?: RunOptions;
}

export interface RunResponse {
  job_id: string;
  status: string;
  total: number;
  duplicates?: number;
  idempotent_replay?: boolean;
}

export interface LlmParams {
  temperature?: number;
  top_p?: number;
  max_tokens?: number;
  stop?: string | string[];
  seed?: number;
}

export interface GenerateRequest {
  prompt: string;
  params?: LlmParams;
  variables?: Record<string, string | number | boolean>;
  stream?: false;
}

export interface GenerateResponse {
  output: string;
  provider?: string;
  model?: string | null;
  usage?: { prompt_tokens?: number; completion_tokens?: number; [k: string]: unknown };
  cached?: boolean;
}

export type TaskState =
  | 'queued'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'retry_wait'
  | 'captcha_required'
  | 'skipped'
  | 'uncertain'
  | 'cancelled';
export type JobStatus = 'queued' | 'running' | 'completed' | 'cancelled';

/** GET /api/jobs/{id} (untyped in openapi.json; fields as docs/api.md describes them). */
export interface Job {
  id: string;
  status: JobStatus | string;
  total?: number;
  counts?: Partial<Record<TaskState | string, number>>;
  progress?: number;
  stages?: string[];
  created?: string;
  updated?: string;
  started?: string | null;
  finished?: string | null;
  campaign_id?: string | null;
  usage?: Record<string, number>;
  [k: string]: unknown;
}

/** GET /api/workers */
export interface WorkersResponse {
  services: Record<string, { workers: number; capacity?: number; [k: string]: unknown }>;
  workers: Array<{
    id?: string;
    service?: string;
    status?: {
      service?: string;
      version?: string;
      capacity?: number;
      held?: number;
      started_ms?: number;
      updated_ms?: number;
      [k: string]: unknown;
    };
    [k: string]: unknown;
  }>;
}

/** GET /api/queues (new route). */
export interface QueuesResponse {
  ready: Record<string, number>;
  delayed: number;
  inflight: number;
  dead: number;
}

/** An item of GET /api/dead (new route). */
export interface DeadLetter {
  task_id: string;
  job_id: string;
  service: string;
  stage: string;
  state: string;
  error: string | null;
  attempts: number;
  updated: string | null;
}

export interface DeadList {
  items: DeadLetter[];
  next_cursor: string | null;
}

export interface McpServer {
  name: string;
  transport?: string;
  breaker_state?: string;
  tools?: Array<{ name: string; description?: string; inputSchema?: unknown; [k: string]: unknown }>;
  pipeline?: Record<string, string>;
  error?: string;
  [k: string]: unknown;
}

export interface McpToolsResponse {
  servers: McpServer[];
}

export interface McpEnrichResponse {
  domain: string;
  company_info: Record<string, unknown>;
  server?: string;
  tool?: string;
  cached?: boolean;
}

/** One page of a cursor-paged list. */
export interface Page<T> {
  items: T[];
  /** X-Total-Count, or the body's `total`; null when the answer had neither. */
  total: number | null;
  /** The cursor of the next page (Link rel="next" or the body's `next_cursor`), null on the last. */
  nextCursor: string | null;
}
