import type { Campaign } from '../types';

export const METRICS = ['sent', 'opens', 'clicks', 'responses'] as const;
export type Metric = (typeof METRICS)[number];

export type Totals = Record<Metric, number>;

export function totalsOf(cs: readonly Campaign[]): Totals {
  const t: Totals = { sent: 0, opens: 0, clicks: 0, responses: 0 };
  for (const c of cs) for (const m of METRICS) t[m] += Number.isFinite(c[m]) ? c[m] : 0;
  return t;
}

/** part/whole as a percentage with one decimal; null when whole is 0. */
export function rate(part: number, whole: number): number | null {
  if (!whole) return null;
  return Math.round((part / whole) * 1000) / 10;
}
