// The state of a server-side prospects table: search (debounced), filters, sort, page size and
// the cursor stack; one GET /api/prospects per change, the previous one aborted. Only one page is
// ever held, so 100,000 prospects cost what 50 do.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { DEFAULT_PAGE_SIZE, SEARCH_DEBOUNCE_MS } from '../constants/dashboard';
import { api, ApiError, isAbort } from '../services/api';
import type { Prospect, ProspectSort, ProspectStatus } from '../types';
import { firstPage, hasPrev, pageNumber, popPrev, pushNext, rowRange, type CursorStack } from '../utils/cursorStack';
import { useDebounced } from './useDebounced';

export interface ProspectListState {
  search: string;
  setSearch: (s: string) => void;
  industries: string[];
  setIndustries: (v: string[]) => void;
  statuses: ProspectStatus[];
  setStatuses: (v: ProspectStatus[]) => void;
  pageSize: number;
  setPageSize: (n: number) => void;
  sort: ProspectSort | null;
  setSort: (s: ProspectSort | null) => void;
  /** False once the gateway refused `sort` (an older gateway): sorting is then off. */
  sortSupported: boolean;

  rows: Prospect[];
  total: number | null;
  loading: boolean;
  error: unknown;
  page: number;
  range: [number, number];
  canPrev: boolean;
  canNext: boolean;
  next: () => void;
  prev: () => void;
  reload: () => void;
  /** Replaces a row in place (after an edit) without fetching again. */
  replaceRow: (p: Prospect) => void;
  /** Industries seen in the answers so far (for the filter's choices). */
  seenIndustries: string[];
}

const FIRST = firstPage();

export function useProspectList(initial: { pageSize?: number } = {}): ProspectListState {
  const [search, setSearchRaw] = useState('');
  const [industries, setIndustriesRaw] = useState<string[]>([]);
  const [statuses, setStatusesRaw] = useState<ProspectStatus[]>([]);
  const [pageSize, setPageSizeRaw] = useState(initial.pageSize ?? DEFAULT_PAGE_SIZE);
  const [sort, setSortRaw] = useState<ProspectSort | null>(null);
  const [sortSupported, setSortSupported] = useState(true);
  const [pg, setPg] = useState<{ key: string; stack: CursorStack }>({ key: '', stack: FIRST });
  const [tick, setTick] = useState(0);

  const [rows, setRows] = useState<Prospect[]>([]);
  const [total, setTotal] = useState<number | null>(null);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const seen = useRef(new Set<string>());
  const [seenIndustries, setSeenIndustries] = useState<string[]>([]);

  const debounced = useDebounced(search.trim(), SEARCH_DEBOUNCE_MS);

  const setSearch = useCallback((s: string) => setSearchRaw(s), []);
  const setIndustries = useCallback((v: string[]) => setIndustriesRaw(v), []);
  const setStatuses = useCallback((v: ProspectStatus[]) => setStatusesRaw(v), []);
  const setPageSize = useCallback((n: number) => setPageSizeRaw(n), []);
  const setSort = useCallback((s: ProspectSort | null) => setSortRaw(s), []);

  const effectiveSort = sortSupported ? sort : null;
  // The cursors belong to one query: any change of what is asked starts from the first page.
  const queryKey = JSON.stringify([debounced, industries, statuses, pageSize, effectiveSort]);
  const cursors = pg.key === queryKey ? pg.stack : FIRST;

  useEffect(() => {
    const ctrl = new AbortController();
    setLoading(true);
    api
      .listProspects(
        { search: debounced, industry: industries, status: statuses, limit: pageSize, cursor: cursors.current, sort: effectiveSort },
        ctrl.signal,
      )
      .then((p) => {
        if (ctrl.signal.aborted) return;
        setRows(p.items);
        setTotal(p.total);
        setNextCursor(p.nextCursor);
        setError(null);
        let added = false;
        for (const r of p.items) {
          if (r.industry && !seen.current.has(r.industry)) {
            seen.current.add(r.industry);
            added = true;
          }
        }
        if (added) setSeenIndustries([...seen.current].sort((a, b) => a.localeCompare(b)));
      })
      .catch((e) => {
        if (ctrl.signal.aborted || isAbort(e)) return;
        // A gateway without the `sort` parameter refuses it by name: go on without sorting.
        if (effectiveSort && e instanceof ApiError && e.status === 400 && e.fieldError('sort') !== undefined) {
          setSortSupported(false);
          return;
        }
        setError(e);
        if (e instanceof ApiError && e.status === 401) {
          setRows([]);
          setTotal(null);
          setNextCursor(null);
        }
      })
      .finally(() => {
        if (!ctrl.signal.aborted) setLoading(false);
      });
    return () => ctrl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [queryKey, cursors.current, tick]);

  const next = useCallback(
    () => setPg((p) => ({ key: queryKey, stack: pushNext(p.key === queryKey ? p.stack : FIRST, nextCursor) })),
    [queryKey, nextCursor],
  );
  const prev = useCallback(
    () => setPg((p) => ({ key: queryKey, stack: popPrev(p.key === queryKey ? p.stack : FIRST) })),
    [queryKey],
  );
  const reload = useCallback(() => setTick((t) => t + 1), []);
  const replaceRow = useCallback((p: Prospect) => setRows((rs) => rs.map((r) => (r.id === p.id ? p : r))), []);

  return useMemo(
    () => ({
      search,
      setSearch,
      industries,
      setIndustries,
      statuses,
      setStatuses,
      pageSize,
      setPageSize,
      sort,
      setSort,
      sortSupported,
      rows,
      total,
      loading,
      error,
      page: pageNumber(cursors),
      range: rowRange(cursors, pageSize, rows.length),
      canPrev: hasPrev(cursors),
      canNext: nextCursor != null,
      next,
      prev,
      reload,
      replaceRow,
      seenIndustries,
    }),
    [search, setSearch, industries, setIndustries, statuses, setStatuses, pageSize, setPageSize, sort, setSort, sortSupported, rows, total, loading, error, cursors, nextCursor, next, prev, reload, replaceRow, seenIndustries],
  );
}
