import { describe, expect, it, vi } from 'vitest';
import {
  importSuppressions,
  inferKind,
  parseCsv,
  parseSuppressionCsv,
  planBatches,
  splitValues,
  type SuppressionResult,
} from './suppressionCsv';

describe('parseCsv', () => {
  it('reads quotes, doubled quotes, CRLF, a BOM and blank lines', () => {
    const recs = parseCsv('\ufeffvalue,reason\r\n"a.example","said ""stop"", twice"\r\n\r\nb.example,\n');
    expect(recs).toEqual([
      { line: 1, cells: ['value', 'reason'] },
      { line: 2, cells: ['a.example', 'said "stop", twice'] },
      { line: 4, cells: ['b.example', ''] },
    ]);
  });

  it('counts lines inside a quoted cell and reads a last line without a newline', () => {
    const recs = parseCsv('x@y.example,"two\nlines"\nz.example');
    expect(recs.map((r) => r.line)).toEqual([1, 3]);
    expect(recs[0].cells[1]).toBe('two\nlines');
    expect(recs[1].cells).toEqual(['z.example']);
  });
});

describe('parseSuppressionCsv', () => {
  it('reads the server\'s format: header value,kind,reason', () => {
    const p = parseSuppressionCsv('value,kind,reason\nglobex.example,,opt-out\nx@initech.example,email,unsubscribed\n');
    expect(p.header).toEqual(['value', 'kind', 'reason']);
    expect(p.entries).toEqual([
      { line: 2, value: 'globex.example', kind: 'domain', reason: 'opt-out' },
      { line: 3, value: 'x@initech.example', kind: 'email', reason: 'unsubscribed' },
    ]);
  });

  it('reads a bare list with no header, inferring each kind', () => {
    const p = parseSuppressionCsv('acme.example\nAda@Analytical-Engines.Example\nhttps://user@x.example/contact\n');
    expect(p.header).toBeNull();
    expect(p.entries.map((e) => e.kind)).toEqual(['domain', 'email', 'domain']);
  });

  it('takes a prospects export\'s email column and skips rows without one', () => {
    const csv = 'id,name,email,website\np-1,Ann,ann@a.example,https://a.example/\np-2,Bob,,https://b.example/\n';
    const p = parseSuppressionCsv(csv);
    expect(p.column).toBe('email');
    expect(p.entries).toEqual([{ line: 2, value: 'ann@a.example', kind: 'email' }]);
    expect(p.rejected).toEqual([{ line: 3, value: 'p-2,Bob,,https://b.example/', detail: 'no email in this row' }]);
  });

  it('reads a website column as domains', () => {
    const p = parseSuppressionCsv('Website\nhttps://www.acme.example/contact\n');
    expect(p.entries).toEqual([{ line: 2, value: 'https://www.acme.example/contact', kind: 'domain' }]);
  });

  it('rejects a bad kind and a header with no value column', () => {
    expect(parseSuppressionCsv('a.example,phone\n').rejected[0]).toMatchObject({ line: 1, detail: expect.stringContaining('kind') });
    const p = parseSuppressionCsv('kind,reason\ndomain,x\n');
    expect(p.entries).toEqual([]);
    expect(p.rejected[0].detail).toMatch(/no value column/);
  });

  it('infers kinds as the server does', () => {
    expect(inferKind('a@b.example')).toBe('email');
    expect(inferKind('https://a@b.example/')).toBe('domain');
    expect(inferKind('b.example')).toBe('domain');
  });
});

describe('splitValues', () => {
  it('splits on commas, semicolons and blanks', () => {
    expect(splitValues(' a.example, b@c.example;\n d.example  ')).toEqual(['a.example', 'b@c.example', 'd.example']);
  });
});

describe('planBatches and importSuppressions', () => {
  const entries = Array.from({ length: 2500 }, (_, i) => ({
    line: i + 2,
    value: i % 2 ? `u${i}@x.example` : `d${i}.example`,
    kind: (i % 2 ? 'email' : 'domain') as 'email' | 'domain',
    ...(i === 7 ? { reason: 'special' } : {}),
  }));

  it('groups by reason in batches of at most the size', () => {
    const b = planBatches(entries, 1000, 'csv import');
    expect(b.map((x) => x.body.domains.length + x.body.emails.length)).toEqual([1000, 1000, 499, 1]);
    expect(b[0].body.reason).toBe('csv import');
    expect(b[3].body).toEqual({ domains: [], emails: ['u7@x.example'], reason: 'special' });
    expect(b[3].lines.emails).toEqual([9]);
  });

  it('sends every batch, sums the answers, maps rejections to lines, survives a failed batch', async () => {
    let call = 0;
    const post = vi.fn(async (body: { domains: string[]; emails: string[] }): Promise<SuppressionResult> => {
      call++;
      if (call === 2) throw new Error('Service unavailable');
      return {
        added: body.domains.length + body.emails.length - 1,
        existing: 0,
        rejected_total: 1,
        rejected: [{ field: 'emails', index: 0, value: body.emails[0], detail: 'bad' }],
      };
    });
    const progress = vi.fn();
    const res = await importSuppressions({ entries, rejected: [{ line: 1, value: 'x', detail: 'y' }] }, post, progress, {
      batchSize: 1000,
    });
    // 1000, 1000, 499 without a reason, then the one with its own reason
    expect(post).toHaveBeenCalledTimes(4);
    expect(res.done).toBe(4);
    expect(res.added).toBe(999 + 498 + 0);
    expect(res.failed).toHaveLength(1);
    expect(res.failed[0]).toMatchObject({ batch: 2, error: 'Service unavailable' });
    expect(res.rejected.map((r) => r.line)).toEqual([1, 3, 9, 2003]);
    expect(res.rejectedTotal).toBe(4);
    expect(progress).toHaveBeenCalledTimes(5);
    expect(progress.mock.calls[4][0].sent).toBe(2500);
  });

  it('stops between batches when aborted', async () => {
    const ac = new AbortController();
    const post = vi.fn(async (): Promise<SuppressionResult> => {
      ac.abort();
      return { added: 1, existing: 0, rejected_total: 0, rejected: [] };
    });
    const res = await importSuppressions({ entries, rejected: [] }, post, undefined, { signal: ac.signal });
    expect(post).toHaveBeenCalledTimes(1);
    expect(res.done).toBe(1);
  });
});
