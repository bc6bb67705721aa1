import { useMemo } from 'react';
import { KNOWN_INDUSTRIES, PAGE_SIZES } from '../../constants/dashboard';
import type { ProspectListState } from '../../hooks/useProspectList';
import { PROSPECT_STATUSES, type ProspectStatus } from '../../types';
import { formatNumber } from '../../utils/utils';
import MultiSelect from '../UI/MultiSelect';
import Spinner from '../UI/Spinner';

/** Search, industry and status filters of a prospects table. */
export function ProspectFilters({ list }: { list: ProspectListState }) {
  const industries = useMemo(() => {
    const m = new Map<string, string>();
    for (const i of [...KNOWN_INDUSTRIES, ...list.seenIndustries]) if (!m.has(i.toLowerCase())) m.set(i.toLowerCase(), i);
    return [...m.values()].sort((a, b) => a.localeCompare(b));
  }, [list.seenIndustries]);
  return (
    <div className="flex flex-wrap items-end gap-3">
      <div className="min-w-[16rem] flex-1">
        <label htmlFor="prospects-search" className="label">
          Search
        </label>
        <input
          id="prospects-search"
          data-testid="prospects-search"
          type="search"
          className="input"
          placeholder="Name, company or e-mail"
          value={list.search}
          onChange={(e) => list.setSearch(e.target.value)}
        />
      </div>
      <div className="w-56">
        <MultiSelect
          label="Industry"
          testId="prospects-filter-industry"
          options={industries}
          value={list.industries}
          onChange={list.setIndustries}
          allowCustom
          customPlaceholder="Another industry…"
        />
      </div>
      <div className="w-56">
        <MultiSelect
          label="Status"
          testId="prospects-filter-status"
          options={PROSPECT_STATUSES}
          value={list.statuses}
          onChange={(v) => list.setStatuses(v as ProspectStatus[])}
        />
      </div>
    </div>
  );
}

/** Total, page size and Prev/Next under a prospects table. */
export function ProspectPager({ list, noun = 'prospects' }: { list: ProspectListState; noun?: string }) {
  const [first, last] = list.range;
  return (
    <div className="mt-3 flex flex-wrap items-center justify-between gap-3 text-sm">
      <div className="flex items-center gap-2 text-slate-600 dark:text-slate-300" aria-live="polite">
        {list.loading && <Spinner className="text-indigo-500" />}
        <span>
          {first > 0 ? (
            <>
              {formatNumber(first)}–{formatNumber(last)} of{' '}
            </>
          ) : null}
          <strong data-testid="prospects-total">{list.total == null ? '—' : formatNumber(list.total)}</strong> {noun}
        </span>
      </div>
      <div className="flex items-center gap-2">
        <label htmlFor="prospects-page-size" className="text-slate-600 dark:text-slate-300">
          Rows per page
        </label>
        <select
          id="prospects-page-size"
          data-testid="prospects-page-size"
          className="input w-20 py-1"
          value={list.pageSize}
          onChange={(e) => list.setPageSize(Number(e.target.value))}
        >
          {PAGE_SIZES.map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
        <span className="px-1 text-slate-500">Page {list.page}</span>
        <button type="button" className="btn-secondary" data-testid="prospects-prev" disabled={!list.canPrev} onClick={list.prev}>
          ← Prev
        </button>
        <button
          type="button"
          className="btn-secondary"
          data-testid="prospects-next"
          disabled={!list.canNext || list.loading}
          onClick={list.next}
        >
          Next →
        </button>
      </div>
    </div>
  );
}
