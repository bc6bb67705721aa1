import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import { api, ApiError, isAbort } from '../services/api';
import { openEventStream } from '../services/sse';
import { EventBatcher } from '../utils/eventBatcher';
import { JobStore, type JobStreamEvent, type JobSummary, type TaskDetail } from '../utils/jobState';
import { pagesFor } from '../utils/virtualWindow';

export type StreamStatus = 'connecting' | 'live' | 'reconnecting' | 'ended' | 'failed';

/** Rows per GET /api/jobs/{id}/tasks page loaded for the list. */
export const TASK_PAGE = 100;
/** A page whose rows events changed is loaded again at most this often while it is in view. */
const PAGE_REFRESH_MS = 2000;
/** The job (its counts) is read again this often while it runs. */
const RECONCILE_MS = 3000;

interface PageState {
  at: number; // when last loaded (0: never)
  loading: boolean;
  dirty: boolean;
}

/**
 * A job followed live: GET /api/jobs/{id}/events (snapshot, task, job, end) through the SSE
 * reader (fetch + Authorization, Last-Event-ID on reconnection), events applied in batches once
 * per frame to a JobStore; the task pages in view loaded from GET /api/jobs/{id}/tasks (and again
 * when events changed them); the job read again every few seconds for exact counts.
 */
export function useJobStream(jobId: string) {
  const store = useMemo(() => new JobStore(jobId), [jobId]);
  const version = useSyncExternalStore(store.subscribe, store.getVersion);
  const [status, setStatus] = useState<StreamStatus>('connecting');
  const [error, setError] = useState<unknown>(null);
  const pages = useRef(new Map<number, PageState>());
  const visible = useRef<number[]>([]);
  const alive = useRef(true);

  const loadPage = useCallback(
    async (p: number) => {
      const st = pages.current.get(p) ?? { at: 0, loading: false, dirty: false };
      if (st.loading) return;
      st.loading = true;
      st.dirty = false;
      pages.current.set(p, st);
      const since = store.eventSeq;
      try {
        const page = await api.getJobTasks(jobId, { limit: TASK_PAGE, cursor: p > 0 ? String(p * TASK_PAGE) : null });
        if (!alive.current) return;
        store.mergeTasks(page.items as TaskDetail[], since);
        st.at = Date.now();
      } catch (e) {
        if (!isAbort(e)) st.dirty = true; // try again on the next tick
      } finally {
        st.loading = false;
      }
    },
    [jobId, store],
  );

  /** Loads the pages in view that were never loaded, or that events changed (throttled). */
  const pump = useCallback(() => {
    const now = Date.now();
    for (const p of visible.current) {
      const st = pages.current.get(p);
      if (!st || (!st.loading && st.at === 0 && !st.dirty)) void loadPage(p);
      else if (st.dirty && !st.loading && now - st.at >= PAGE_REFRESH_MS) void loadPage(p);
    }
  }, [loadPage]);

  const reconcile = useCallback(async () => {
    try {
      const job = await api.getJob(jobId);
      if (!alive.current) return;
      store.reconcile(job as unknown as JobSummary);
      store.notify();
    } catch (e) {
      if (e instanceof ApiError && e.status === 404 && !store.job) {
        setError(e);
        setStatus('failed');
      }
    }
  }, [jobId, store]);

  // the stream
  useEffect(() => {
    alive.current = true;
    const batcher = new EventBatcher<JobStreamEvent>((batch) => {
      store.applyBatch(batch);
      for (const n of store.takeChanged()) {
        const st = pages.current.get(Math.floor((n - 1) / TASK_PAGE));
        if (st) st.dirty = true;
      }
    }, 200);
    let opened = 0;
    const handle = openEventStream(`/jobs/${encodeURIComponent(jobId)}/events`, {
      onEvent: (ev) => batcher.push({ event: ev.event, data: ev.data, id: ev.id || null }),
      onOpen: () => {
        setError(null);
        setStatus('live');
        // a reconnection may have missed events the server no longer holds: read the counts
        if (opened++ > 0) void reconcile();
      },
      onError: (err, willRetry) => {
        setError(err);
        setStatus(willRetry ? 'reconnecting' : 'failed');
      },
      stopOn: ['end'],
    });
    void handle.done.then(() => {
      batcher.flush();
      if (!alive.current) return;
      if (store.ended) {
        setStatus('ended');
        // the final counts, and the results of the rows in view
        void reconcile();
        for (const st of pages.current.values()) st.dirty = true;
        pump();
      }
    });
    return () => {
      alive.current = false;
      handle.close();
      batcher.close(false);
    };
  }, [jobId, store, reconcile, pump]);

  // exact counts while the job runs; pages in view kept fresh
  useEffect(() => {
    const t = setInterval(() => {
      if (!store.ended && typeof document !== 'undefined' && document.visibilityState !== 'hidden') void reconcile();
    }, RECONCILE_MS);
    const p = setInterval(pump, 500);
    return () => {
      clearInterval(t);
      clearInterval(p);
    };
  }, [store, reconcile, pump]);

  /** The list tells which tasks it renders: numbers first..last, or a list of numbers. */
  const onVisible = useCallback(
    (tasks: { first: number; last: number } | readonly number[]) => {
      if (Array.isArray(tasks)) {
        const set = new Set<number>();
        for (const n of tasks as readonly number[]) set.add(Math.floor((n - 1) / TASK_PAGE));
        visible.current = [...set];
      } else {
        const { first, last } = tasks as { first: number; last: number };
        visible.current = pagesFor(first - 1, last, TASK_PAGE);
      }
      pump();
    },
    [pump],
  );

  return { store, version, status, error, onVisible, reconcile };
}

/** One task read fresh (GET /api/jobs/{id}/tasks?cursor=n-1&limit=1): the row's details. */
export async function fetchTask(jobId: string, n: number, signal?: AbortSignal): Promise<TaskDetail | null> {
  const page = await api.getJobTasks(jobId, { limit: 1, cursor: n > 1 ? String(n - 1) : null }, signal);
  const t = (page.items[0] as TaskDetail | undefined) ?? null;
  return t && Number(t.id) === n ? t : null;
}
