import { useCallback, useEffect, useLayoutEffect, useRef, useState, type ReactNode, type UIEvent } from 'react';
import { computeWindow, type WindowRange } from '../../utils/virtualWindow';
import { cn } from '../../utils/utils';

/**
 * A scrolling list of fixed-height rows that renders only the rows in view (plus `overscan`):
 * 10,000 rows cost what 30 do. The rows are absolutely placed in a spacer as tall as the list.
 * `onRangeChange` says which rows are rendered (to load their data).
 */
export default function VirtualList({
  count,
  rowHeight,
  renderRow,
  height = 480,
  overscan = 8,
  className,
  onRangeChange,
  ariaLabel,
  header,
  testId,
  empty,
}: {
  count: number;
  rowHeight: number;
  renderRow: (index: number) => ReactNode;
  /** the viewport's height in px (CSS max-height: a short list is shorter) */
  height?: number;
  overscan?: number;
  className?: string;
  onRangeChange?: (range: WindowRange) => void;
  ariaLabel?: string;
  /** a sticky header row (role="row") */
  header?: ReactNode;
  testId?: string;
  empty?: ReactNode;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewport, setViewport] = useState(height);
  const frame = useRef<number | null>(null);
  const pending = useRef(0);

  // scroll events come faster than frames: read scrollTop once per frame
  const onScroll = useCallback((e: UIEvent<HTMLDivElement>) => {
    pending.current = e.currentTarget.scrollTop;
    if (frame.current != null) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = null;
      setScrollTop(pending.current);
    });
  }, []);
  useEffect(
    () => () => {
      if (frame.current != null) cancelAnimationFrame(frame.current);
    },
    [],
  );

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => setViewport(el.clientHeight || height);
    measure();
    if (typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, [height]);

  const headerHeight = header ? rowHeight : 0;
  const win = computeWindow({
    count,
    rowHeight,
    scrollTop: Math.max(0, scrollTop - headerHeight),
    viewportHeight: Math.max(0, viewport - headerHeight),
    overscan,
  });

  const cb = useRef(onRangeChange);
  cb.current = onRangeChange;
  useEffect(() => {
    cb.current?.(win);
  }, [win.start, win.end, win.totalHeight]); // eslint-disable-line react-hooks/exhaustive-deps

  const rows: ReactNode[] = [];
  for (let i = win.start; i < win.end; i++) {
    rows.push(
      <div
        key={i}
        role="presentation"
        style={{ position: 'absolute', top: i * rowHeight, left: 0, right: 0, height: rowHeight }}
      >
        {renderRow(i)}
      </div>,
    );
  }

  return (
    <div
      ref={ref}
      onScroll={onScroll}
      role="table"
      aria-label={ariaLabel}
      aria-rowcount={count + (header ? 1 : 0)}
      data-testid={testId}
      data-count={count}
      tabIndex={0}
      className={cn('relative overflow-auto focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500', className)}
      style={{ maxHeight: height }}
    >
      {header && <div className="sticky top-0 z-10">{header}</div>}
      {count === 0 && empty ? (
        empty
      ) : (
        <div role="rowgroup" style={{ position: 'relative', height: win.totalHeight }}>
          {rows}
        </div>
      )}
    </div>
  );
}
