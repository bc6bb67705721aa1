import { describe, expect, it } from 'vitest';
import type { Campaign } from '../types';
import { rate, totalsOf } from './campaigns';

const c = (sent: number, opens: number, clicks: number, responses: number): Campaign => ({
  id: 'c',
  name: 'c',
  channel: 'email',
  sent,
  opens,
  clicks,
  responses,
});

describe('campaign stats', () => {
  it('adds the counters up', () => {
    expect(totalsOf([c(1548, 607, 144, 80), c(10, 5, 1, 0)])).toEqual({ sent: 1558, opens: 612, clicks: 145, responses: 80 });
    expect(totalsOf([])).toEqual({ sent: 0, opens: 0, clicks: 0, responses: 0 });
  });
  it('gives rates, none when nothing was sent', () => {
    expect(rate(607, 1548)).toBe(39.2);
    expect(rate(1, 0)).toBeNull();
  });
});
