import { describe, expect, it } from 'vitest';
import type { WorkersResponse } from '../types';
import { ago, canRequeue, deadRow, formatDuration, formatStatusValue, num, serviceRows, workerRows } from './workers';

// as the gateway answers it (status fields are strings, which types/index.ts does not say)
const RES = {
  services: { llm: { workers: 1, capacity: 64 }, form: { workers: 2, capacity: 96 } },
  workers: [
    {
      service: 'form',
      capacity: 64,
      credit: 60,
      gateway: 'vm:8000',
      last_seen_ms: 1_000_000,
      id: 'form-b',
      status: {
        service: 'form',
        held: '10',
        capacity: '64',
        version: '0.1.0',
        started_ms: '900000',
        updated_ms: '999000',
        form_outcomes: '{"succeeded":38,"skipped":2}',
      },
      load: 4,
    },
    { service: 'form', capacity: 32, credit: 30, id: 'form-a', load: 2 },
    {
      service: 'llm',
      capacity: 64,
      id: 'llm-1',
      status: { held: '64', capacity: '64', breaker_state: 'open' },
    },
  ],
} as unknown as WorkersResponse;

describe('workerRows', () => {
  it('reads held/capacity from the status record, else the gateway load', () => {
    const rows = workerRows(RES);
    expect(rows.map((r) => r.id)).toEqual(['form-a', 'form-b', 'llm-1']);
    const [a, b, l] = rows;
    expect([a.held, a.capacity]).toEqual([2, 32]);
    expect([b.held, b.capacity, b.load]).toEqual([10, 64, 10 / 64]);
    expect(b.version).toBe('0.1.0');
    expect(b.startedMs).toBe(900000);
    expect(b.seenMs).toBe(1_000_000);
    expect(b.extra).toEqual([['form_outcomes', '{"succeeded":38,"skipped":2}']]);
    expect(l.breaker).toBe('open');
    expect(l.load).toBe(1);
    expect(workerRows(undefined)).toEqual([]);
  });
});

describe('serviceRows', () => {
  it('sums the load per service in the pipeline order', () => {
    const s = serviceRows(RES);
    expect(s.map((x) => x.service)).toEqual(['llm', 'form']);
    expect(s[1]).toMatchObject({ workers: 2, capacity: 96, held: 12 });
    expect(s[0].load).toBe(1);
  });
});

describe('formatting', () => {
  it('formats durations and ages', () => {
    expect(formatDuration(1234)).toBe('1 s');
    expect(formatDuration(90_000)).toBe('1 min 30 s');
    expect(formatDuration(7_500_000)).toBe('2 h 5 min');
    expect(formatDuration(3 * 86_400_000)).toBe('3 d');
    expect(formatDuration(-1)).toBe('—');
    expect(ago(1000, 3000)).toBe('2 s ago');
    expect(ago(null)).toBe('—');
  });
  it('reads numbers given as strings', () => {
    expect(num('12')).toBe(12);
    expect(num('')).toBeNull();
    expect(num('x')).toBeNull();
    expect(num(3)).toBe(3);
  });
  it('spells out a JSON status value', () => {
    expect(formatStatusValue('{"succeeded":38,"captcha_required":1}')).toBe('succeeded 38 · captcha required 1');
    expect(formatStatusValue('skipped: no server')).toBe('skipped: no server');
    expect(formatStatusValue('[{"name":"default","transport":"http","breaker_state":"closed","failures":0}]')).toBe(
      'default: transport http, breaker state closed, failures 0',
    );
  });
});

describe('deadRow', () => {
  it('reads the gateway shape', () => {
    const d = deadRow({ task_id: 'j-01ab-000007', job_id: 'j-01ab', stage: 'submit', attempts: 3, reason: 'http 500', at: '2026-01-01T00:00:00Z', state: 'failed' });
    expect(d).toEqual({ task_id: 'j-01ab-000007', job_id: 'j-01ab', service: null, stage: 'submit', state: 'failed', error: 'http 500', attempts: 3, at: '2026-01-01T00:00:00Z' });
    expect(canRequeue(d)).toBe(true);
  });
  it('reads the draft shape, derives the job id, refuses requeueing what is not failed', () => {
    const d = deadRow({ task_id: 'j-01ab-000002', service: 'llm', error: 'x', updated: 'u', state: 'queued', attempts: '2' });
    expect(d.job_id).toBe('j-01ab');
    expect([d.service, d.error, d.at, d.attempts]).toEqual(['llm', 'x', 'u', 2]);
    expect(canRequeue(d)).toBe(false);
    expect(canRequeue(deadRow({ task_id: 'j-x-1', state: null }))).toBe(false);
  });
});
