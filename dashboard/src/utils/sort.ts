// Column-header sorting: the `sort` parameter of GET /api/prospects (`name`, `-name`...).
import type { ProspectSort, ProspectSortKey } from '../types';

export type SortDir = 'asc' | 'desc';

export const SORT_KEYS: readonly ProspectSortKey[] = ['name', 'company', 'status', 'industry', 'lastContactDate', 'id'];

export function parseSort(s: string | null | undefined): ProspectSort | null {
  if (!s) return null;
  const key = s.startsWith('-') ? s.slice(1) : s;
  return (SORT_KEYS as readonly string[]).includes(key) ? (s as ProspectSort) : null;
}

/** How `key` is sorted by `sort`: 'asc', 'desc' or null (not by this column). */
export function sortDir(sort: ProspectSort | null, key: ProspectSortKey): SortDir | null {
  if (!sort) return null;
  if (sort === key) return 'asc';
  if (sort === `-${key}`) return 'desc';
  return null;
}

/**
 * A click on `key`'s header: another column → ascending; ascending → descending;
 * descending → no sort (the server's order, by id).
 */
export function nextSort(sort: ProspectSort | null, key: ProspectSortKey): ProspectSort | null {
  const d = sortDir(sort, key);
  if (d === null) return key;
  if (d === 'asc') return `-${key}` as ProspectSort;
  return null;
}

/** aria-sort for the header cell. */
export function ariaSort(sort: ProspectSort | null, key: ProspectSortKey): 'ascending' | 'descending' | 'none' {
  const d = sortDir(sort, key);
  return d === 'asc' ? 'ascending' : d === 'desc' ? 'descending' : 'none';
}
