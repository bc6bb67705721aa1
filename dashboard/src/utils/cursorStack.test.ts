import { describe, expect, it } from 'vitest';
import { firstPage, hasPrev, pageNumber, popPrev, pushNext, rowRange } from './cursorStack';

describe('cursor stack', () => {
  it('goes forward and back through the cursors it was given', () => {
    let s = firstPage();
    expect([pageNumber(s), hasPrev(s), s.current]).toEqual([1, false, null]);
    s = pushNext(s, 'c2');
    s = pushNext(s, 'c3');
    expect([pageNumber(s), s.current, s.before]).toEqual([3, 'c3', [null, 'c2']]);
    s = popPrev(s);
    expect([pageNumber(s), s.current]).toEqual([2, 'c2']);
    s = pushNext(s, 'c3b');
    expect(s.before).toEqual([null, 'c2']);
    s = popPrev(popPrev(s));
    expect([pageNumber(s), s.current, hasPrev(s)]).toEqual([1, null, false]);
    expect(popPrev(s)).toBe(s);
  });
  it('stays on the last page when there is no next cursor', () => {
    const s = pushNext(firstPage(), 'c2');
    expect(pushNext(s, null)).toBe(s);
  });
  it('numbers the rows of a page', () => {
    const s = pushNext(pushNext(firstPage(), 'a'), 'b');
    expect(rowRange(s, 50, 50)).toEqual([101, 150]);
    expect(rowRange(s, 50, 7)).toEqual([101, 107]);
    expect(rowRange(firstPage(), 50, 0)).toEqual([0, 0]);
  });
});
