/*
 * Windowing math for a list of fixed-height rows: which rows a viewport shows (plus `overscan`
 * rows either side), and where the first of them goes. Only those are rendered.
 */

export interface WindowInput {
  count: number;
  rowHeight: number;
  scrollTop: number;
  viewportHeight: number;
  overscan?: number;
}

export interface WindowRange {
  /** first row index rendered (inclusive) */
  start: number;
  /** one past the last row index rendered */
  end: number;
  /** the first rendered row's top, in px from the list's top */
  offset: number;
  /** the whole list's height in px */
  totalHeight: number;
}

export function computeWindow({
  count,
  rowHeight,
  scrollTop,
  viewportHeight,
  overscan = 6,
}: WindowInput): WindowRange {
  const n = Math.max(0, Math.floor(count));
  const h = rowHeight > 0 ? rowHeight : 1;
  const totalHeight = n * h;
  if (n === 0) return { start: 0, end: 0, offset: 0, totalHeight: 0 };
  const maxTop = Math.max(0, totalHeight - Math.max(0, viewportHeight));
  const top = Math.min(Math.max(0, scrollTop || 0), maxTop);
  const first = Math.floor(top / h);
  const visible = Math.ceil(Math.max(0, viewportHeight) / h) + 1;
  const start = Math.max(0, first - overscan);
  const end = Math.min(n, first + visible + overscan);
  return { start, end, offset: start * h, totalHeight };
}

/** The scrollTop that brings row `index` into view ('nearest': the least move). */
export function scrollTopFor(
  index: number,
  rowHeight: number,
  scrollTop: number,
  viewportHeight: number,
): number {
  const top = index * rowHeight;
  const bottom = top + rowHeight;
  if (top < scrollTop) return top;
  if (bottom > scrollTop + viewportHeight) return Math.max(0, bottom - viewportHeight);
  return scrollTop;
}

/** The pages (of `pageSize` rows, 0-based) rows [start, end) fall on. */
export function pagesFor(start: number, end: number, pageSize: number): number[] {
  if (end <= start || pageSize <= 0) return [];
  const out: number[] = [];
  for (let p = Math.floor(start / pageSize); p <= Math.floor((end - 1) / pageSize); p++) out.push(p);
  return out;
}
