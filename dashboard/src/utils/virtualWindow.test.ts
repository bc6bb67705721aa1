import { describe, expect, it } from 'vitest';
import { computeWindow, pagesFor, scrollTopFor } from './virtualWindow';

describe('computeWindow', () => {
  it('renders only the rows in view plus the overscan', () => {
    const w = computeWindow({ count: 10_000, rowHeight: 40, scrollTop: 0, viewportHeight: 400, overscan: 5 });
    expect(w).toEqual({ start: 0, end: 16, offset: 0, totalHeight: 400_000 });
    const m = computeWindow({ count: 10_000, rowHeight: 40, scrollTop: 40_000, viewportHeight: 400, overscan: 5 });
    expect(m.start).toBe(995);
    expect(m.end).toBe(1016);
    expect(m.offset).toBe(995 * 40);
    expect(m.end - m.start).toBeLessThan(30);
  });

  it('clamps at the end and past it', () => {
    const w = computeWindow({ count: 100, rowHeight: 10, scrollTop: 99_999, viewportHeight: 100, overscan: 2 });
    expect(w.end).toBe(100);
    expect(w.start).toBe(88);
    const neg = computeWindow({ count: 100, rowHeight: 10, scrollTop: -50, viewportHeight: 100, overscan: 0 });
    expect(neg.start).toBe(0);
  });

  it('handles an empty list, a list shorter than the viewport, a zero viewport', () => {
    expect(computeWindow({ count: 0, rowHeight: 10, scrollTop: 0, viewportHeight: 100 })).toEqual({
      start: 0,
      end: 0,
      offset: 0,
      totalHeight: 0,
    });
    const short = computeWindow({ count: 3, rowHeight: 10, scrollTop: 0, viewportHeight: 100 });
    expect([short.start, short.end]).toEqual([0, 3]);
    const zero = computeWindow({ count: 50, rowHeight: 10, scrollTop: 0, viewportHeight: 0, overscan: 0 });
    expect(zero.end).toBe(1);
  });
});

describe('scrollTopFor', () => {
  it('moves the least to show a row', () => {
    expect(scrollTopFor(5, 10, 100, 50)).toBe(50); // above: its top
    expect(scrollTopFor(20, 10, 100, 50)).toBe(160); // below: its bottom at the viewport's
    expect(scrollTopFor(12, 10, 100, 50)).toBe(100); // in view: no move
  });
});

describe('pagesFor', () => {
  it('lists the pages a range falls on', () => {
    expect(pagesFor(0, 16, 100)).toEqual([0]);
    expect(pagesFor(95, 120, 100)).toEqual([0, 1]);
    expect(pagesFor(10, 10, 100)).toEqual([]);
  });
});
