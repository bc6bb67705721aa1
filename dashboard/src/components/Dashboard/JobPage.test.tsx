import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import JobPage from './JobPage';

const J = 'j-01test';
const N = 3000;

function job(status: string, counts: Record<string, number>) {
  return { id: J, status, total: N, counts, progress: 0, stages: ['enrich', 'compose', 'submit'], created: '2026-12-06T10:00:00Z', options: { dry_run: true } };
}

function sse(events: string[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  // arbitrary chunk boundaries, as a network would cut them
  const text = events.join('');
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < text.length; i += 4096) chunks.push(enc.encode(text.slice(i, i + 4096)));
  return new ReadableStream({
    pull(ctrl) {
      const c = chunks.shift();
      if (c) ctrl.enqueue(c);
      else ctrl.close();
    },
  });
}

function taskEvent(i: number, n: number, stage: string, state: string) {
  return `id: 1765000000000-${i}\nevent: task\ndata: ${JSON.stringify({ job: J, task: String(n).padStart(6, '0'), stage, state, attempt: 1 })}\n\n`;
}

function mockApi(opts: { live: boolean; onCancel?: () => void }) {
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input), 'http://x.invalid');
    const json = (body: unknown, status = 200) =>
      new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
    if (url.pathname === `/api/jobs/${J}/events`) {
      const ev: string[] = ['retry: 2000\n\n', `event: snapshot\ndata: ${JSON.stringify(job('queued', { queued: N }))}\n\n`];
      if (!opts.live) {
        let id = 0;
        for (let n = 1; n <= N; n++) ev.push(taskEvent(++id, n, 'compose', 'running'));
        for (let n = 1; n <= N; n++) ev.push(taskEvent(++id, n, 'submit', n % 3 ? 'succeeded' : 'failed'));
        ev.push(`id: 1765000000000-${++id}\nevent: job\ndata: {"job":"${J}","state":"completed"}\n\n`, 'event: end\ndata: {}\n\n');
        return new Response(sse(ev), { headers: { 'Content-Type': 'text/event-stream' } });
      }
      // live: the snapshot, then nothing until aborted
      const enc = new TextEncoder();
      const stream = new ReadableStream<Uint8Array>({
        start(ctrl) {
          ctrl.enqueue(enc.encode(ev.join('')));
          init?.signal?.addEventListener('abort', () => ctrl.error(new DOMException('aborted', 'AbortError')));
        },
      });
      return new Response(stream, { headers: { 'Content-Type': 'text/event-stream' } });
    }
    if (url.pathname === `/api/jobs/${J}/tasks`) {
      const from = Number(url.searchParams.get('cursor') ?? 0) + 1;
      const limit = Number(url.searchParams.get('limit') ?? 100);
      const items = [];
      for (let n = from; n < from + limit && n <= N; n++) {
        items.push({
          id: String(n).padStart(6, '0'),
          target: `https://t${n}.example/`,
          stage: 'submit',
          state: opts.live ? 'queued' : n % 3 ? 'succeeded' : 'failed',
          attempt: 1,
          results: opts.live ? {} : { compose: { message: `Hello ${n}` }, submit: { outcome: n % 3 ? 'dry_run' : 'failed', reason: n % 3 ? undefined : 'no_form' } },
        });
      }
      return json(items);
    }
    if (url.pathname === `/api/jobs/${J}/cancel` && init?.method === 'POST') {
      opts.onCancel?.();
      return json(job('cancelled', { cancelled: N }));
    }
    if (url.pathname === `/api/jobs/${J}`) {
      return json(opts.live ? job('running', { queued: N }) : job('completed', { succeeded: 2000, failed: 1000 }));
    }
    return json({ title: 'Not found', status: 404 }, 404);
  });
  vi.stubGlobal('fetch', fetchMock);
  return fetchMock;
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('JobPage', () => {
  it('follows a job to its end over SSE: counts, progress, status, rows loaded in view only', async () => {
    const fetchMock = mockApi({ live: false });
    render(<JobPage id={J} />);
    await waitFor(() => expect(screen.getByTestId('job-status').dataset.status).toBe('completed'), { timeout: 5000 });
    await waitFor(() => expect(screen.getByTestId('job-count-succeeded').dataset.count).toBe('2000'));
    expect(screen.getByTestId('job-count-failed').dataset.count).toBe('1000');
    expect(screen.getByTestId('job-count-queued').dataset.count).toBe('0');
    expect(screen.getByTestId('job-progress').dataset.value).toBe('100');
    // the list renders a window of the 3,000 rows, with the loaded details
    const rows = screen.getAllByTestId('job-task-row');
    expect(rows.length).toBeLessThan(60);
    await waitFor(() => expect(screen.getAllByText('Hello 1').length).toBeGreaterThan(0));
    // only the first page of tasks was asked for, not 30
    const pages = fetchMock.mock.calls.filter(([u]) => String(u).includes('/tasks'));
    expect(pages.length).toBeLessThanOrEqual(3);
  });

  it('cancels after a confirmation', async () => {
    const onCancel = vi.fn();
    mockApi({ live: true, onCancel });
    render(<JobPage id={J} />);
    const button = await screen.findByTestId('job-cancel');
    fireEvent.click(button);
    expect(onCancel).not.toHaveBeenCalled();
    fireEvent.click(screen.getByTestId('job-cancel-confirm'));
    await waitFor(() => expect(onCancel).toHaveBeenCalledTimes(1));
    await screen.findByText(/Cancelled: queued tasks will not run/);
  });
});
