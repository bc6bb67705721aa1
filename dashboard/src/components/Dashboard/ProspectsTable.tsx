import { useEffect, useRef } from 'react';
import type { Prospect, ProspectSort, ProspectSortKey } from '../../types';
import { ariaSort, nextSort, sortDir } from '../../utils/sort';
import { cn } from '../../utils/utils';
import Badge from '../UI/Badge';

export interface Selection {
  isSelected: (id: string) => boolean;
  toggle: (p: Prospect) => void;
  /** Selects (or unselects) every selectable row of the page. */
  setPage: (rows: Prospect[], selected: boolean) => void;
  /** Rows that cannot be picked (e.g. no website to target) and why; default: all can. */
  disabledReason?: (p: Prospect) => string | null;
}

const COLUMNS: { key: ProspectSortKey; label: string; className?: string }[] = [
  { key: 'name', label: 'Name' },
  { key: 'company', label: 'Company' },
  { key: 'status', label: 'Status' },
  { key: 'industry', label: 'Industry' },
  { key: 'lastContactDate', label: 'Last contact', className: 'whitespace-nowrap' },
  { key: 'id', label: 'ID' },
];

function SortHeader({
  col,
  sort,
  onSort,
}: {
  col: (typeof COLUMNS)[number];
  sort: ProspectSort | null;
  onSort?: (s: ProspectSort | null) => void;
}) {
  const dir = sortDir(sort, col.key);
  if (!onSort)
    return (
      <th scope="col" className={cn('th', col.className)}>
        {col.label}
      </th>
    );
  return (
    <th scope="col" aria-sort={ariaSort(sort, col.key)} className={cn('th', col.className)}>
      <button
        type="button"
        data-testid={`prospects-sort-${col.key}`}
        onClick={() => onSort(nextSort(sort, col.key))}
        className="inline-flex items-center gap-1 uppercase hover:text-indigo-600 dark:hover:text-indigo-400"
        title={dir === 'asc' ? 'Sorted ascending: click for descending' : dir === 'desc' ? 'Sorted descending: click to stop sorting' : `Sort by ${col.label.toLowerCase()}`}
      >
        {col.label}
        <span aria-hidden="true" className={cn('text-[10px]', !dir && 'opacity-30')}>
          {dir === 'desc' ? '▼' : '▲'}
        </span>
      </button>
    </th>
  );
}

/** The prospects of one page; sortable headers; optional selection (the Run page) and edit. */
export default function ProspectsTable({
  rows,
  sort,
  onSort,
  selection,
  onEdit,
  loading,
  emptyText = 'No prospect matches.',
}: {
  rows: Prospect[];
  sort: ProspectSort | null;
  onSort?: (s: ProspectSort | null) => void;
  selection?: Selection;
  onEdit?: (p: Prospect) => void;
  loading?: boolean;
  emptyText?: string;
}) {
  const selectable = selection ? rows.filter((r) => !selection.disabledReason?.(r)) : [];
  const allOnPage = selectable.length > 0 && !!selection && selectable.every((r) => selection.isSelected(r.id));
  const someOnPage = !!selection && rows.some((r) => selection.isSelected(r.id));
  const headBox = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (headBox.current) headBox.current.indeterminate = someOnPage && !allOnPage;
  }, [someOnPage, allOnPage]);

  return (
    <div className="overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm dark:border-slate-700 dark:bg-slate-900">
      <table data-testid="prospects-table" aria-busy={loading || undefined} className={cn('min-w-full divide-y divide-slate-200 dark:divide-slate-700', loading && 'opacity-60 transition-opacity')}>
        <thead className="bg-slate-50 dark:bg-slate-800/60">
          <tr>
            {selection && (
              <th scope="col" className="th w-8">
                <input
                  ref={headBox}
                  type="checkbox"
                  data-testid="prospects-select-page"
                  aria-label="Select all on this page"
                  title="Select all on this page"
                  className="h-4 w-4 rounded border-slate-300 text-indigo-600"
                  checked={allOnPage}
                  disabled={selectable.length === 0}
                  onChange={(e) => selection.setPage(selectable, e.target.checked)}
                />
              </th>
            )}
            {COLUMNS.map((c) => (
              <SortHeader key={c.key} col={c} sort={sort} onSort={onSort} />
            ))}
            <th scope="col" className="th">
              E-mail
            </th>
            {onEdit && (
              <th scope="col" className="th">
                <span className="sr-only">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100 dark:divide-slate-800">
          {rows.length === 0 && !loading && (
            <tr>
              <td colSpan={COLUMNS.length + 1 + (selection ? 1 : 0) + (onEdit ? 1 : 0)} className="td py-8 text-center text-slate-500">
                {emptyText}
              </td>
            </tr>
          )}
          {rows.map((p) => {
            const sel = selection?.isSelected(p.id) ?? false;
            const why = selection?.disabledReason?.(p) ?? null;
            return (
              <tr
                key={p.id}
                data-testid="prospects-row"
                data-id={p.id}
                aria-selected={selection ? sel : undefined}
                className={cn('hover:bg-slate-50 dark:hover:bg-slate-800/50', sel && 'bg-indigo-50/70 dark:bg-indigo-950/40')}
              >
                {selection && (
                  <td className="td w-8">
                    <input
                      type="checkbox"
                      aria-label={`Select ${p.name}`}
                      title={why ?? undefined}
                      className="h-4 w-4 rounded border-slate-300 text-indigo-600 disabled:opacity-40"
                      checked={sel}
                      disabled={!!why && !sel}
                      onChange={() => selection.toggle(p)}
                    />
                  </td>
                )}
                <td className="td">
                  <div className="whitespace-nowrap font-medium">{p.name}</div>
                  {p.title && <div className="text-xs text-slate-500 dark:text-slate-400">{p.title}</div>}
                </td>
                <td className="td">
                  <div>{p.company}</div>
                  {p.website && (
                    <a
                      href={p.website}
                      target="_blank"
                      rel="noopener noreferrer"
                      className="block max-w-[12rem] truncate text-xs text-indigo-600 hover:underline dark:text-indigo-400"
                    >
                      {p.website.replace(/^https?:\/\//, '').replace(/\/$/, '')}
                    </a>
                  )}
                </td>
                <td className="td">
                  <Badge value={p.status} />
                </td>
                <td className="td">{p.industry ?? <span className="text-slate-400">—</span>}</td>
                <td className="td whitespace-nowrap tabular-nums">{p.lastContactDate ?? <span className="text-slate-400">—</span>}</td>
                <td className="td whitespace-nowrap font-mono text-xs text-slate-500 dark:text-slate-400">{p.id}</td>
                <td className="td max-w-[13rem] truncate text-xs" title={p.email ?? undefined}>
                  {p.email ?? <span className="text-slate-400">—</span>}
                </td>
                {onEdit && (
                  <td className="td text-right">
                    <button
                      type="button"
                      className="text-sm font-medium text-indigo-600 hover:underline dark:text-indigo-400"
                      data-testid="prospect-edit-open"
                      aria-label={`Edit ${p.name}`}
                      onClick={() => onEdit(p)}
                    >
                      Edit
                    </button>
                  </td>
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
