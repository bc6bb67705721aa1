// Cursor paging with a way back: the API's cursors only go forward (Link rel="next"), so the
// cursors of the pages already seen are kept on a stack.

export interface CursorStack {
  /** The cursors of the pages before the current one (null: the first page). */
  readonly before: readonly (string | null)[];
  /** The cursor of the current page (null: the first page). */
  readonly current: string | null;
}

export const firstPage = (): CursorStack => ({ before: [], current: null });

/** Goes to the page after `s`, whose cursor the current page's answer gave. */
export function pushNext(s: CursorStack, next: string | null): CursorStack {
  if (next == null) return s;
  return { before: [...s.before, s.current], current: next };
}

/** Goes back one page (no-op on the first). */
export function popPrev(s: CursorStack): CursorStack {
  if (s.before.length === 0) return s;
  return { before: s.before.slice(0, -1), current: s.before[s.before.length - 1] };
}

/** 1-based number of the current page. */
export const pageNumber = (s: CursorStack): number => s.before.length + 1;

export const hasPrev = (s: CursorStack): boolean => s.before.length > 0;

/** "first–last" row numbers of the current page (0–0 when it is empty). */
export function rowRange(s: CursorStack, pageSize: number, rowsOnPage: number): [number, number] {
  if (rowsOnPage <= 0) return [0, 0];
  const first = (pageNumber(s) - 1) * pageSize + 1;
  return [first, first + rowsOnPage - 1];
}
