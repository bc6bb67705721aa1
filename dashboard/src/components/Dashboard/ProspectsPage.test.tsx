import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { json, mockFetch, type Call } from '../../test/fetchMock';
import type { Prospect } from '../../types';
import ProspectsPage from './ProspectsPage';

const prospect = (i: number): Prospect => ({
  id: `p-${String(i).padStart(6, '0')}`,
  name: `Person ${i}`,
  company: `Company ${i}`,
  status: 'new',
  industry: i % 2 ? 'SaaS' : 'Fintech',
  lastContactDate: null,
  email: `p${i}@x.example`,
  title: null,
  website: `https://c${i}.example/`,
});

/** A fake GET /api/prospects over 120 prospects: limit, cursor (an index), search. */
function server(opts: { refuseSort?: boolean } = {}) {
  const all = Array.from({ length: 120 }, (_, i) => prospect(i + 1));
  return (c: Call) => {
    const q = c.url.searchParams;
    if (opts.refuseSort && q.has('sort'))
      return json({ type: 'x/invalid-field', title: 'Invalid field', status: 400, detail: 'sort: unknown query parameter', field: 'sort' }, 400);
    const search = (q.get('search') || '').toLowerCase();
    const rows = all.filter((p) => p.name.toLowerCase().includes(search));
    const limit = Number(q.get('limit') || 100);
    const from = Number(q.get('cursor') || 0);
    const page = rows.slice(from, from + limit);
    const headers: Record<string, string> = { 'X-Total-Count': String(rows.length) };
    if (from + limit < rows.length) headers.Link = `</api/prospects?limit=${limit}&cursor=${from + limit}>; rel="next"`;
    return json(page, 200, headers);
  };
}

const ids = () => screen.queryAllByTestId('prospects-row').map((r) => r.getAttribute('data-id'));

afterEach(() => {
  vi.useRealTimers();
});

describe('ProspectsPage', () => {
  it('loads the first page with its total, then Next and Prev follow the cursors', async () => {
    const calls = mockFetch(server());
    render(<ProspectsPage />);
    await waitFor(() => expect(ids()).toHaveLength(50));
    expect(screen.getByTestId('prospects-total').textContent).toBe('120');
    expect(calls).toHaveLength(1);
    expect(calls[0].url.searchParams.get('limit')).toBe('50');
    expect(calls[0].url.searchParams.has('cursor')).toBe(false);
    expect((screen.getByTestId('prospects-prev') as HTMLButtonElement).disabled).toBe(true);

    fireEvent.click(screen.getByTestId('prospects-next'));
    await waitFor(() => expect(ids()[0]).toBe('p-000051'));
    expect(calls.at(-1)!.url.searchParams.get('cursor')).toBe('50');
    fireEvent.click(screen.getByTestId('prospects-next'));
    await waitFor(() => expect(ids()).toHaveLength(20));
    expect((screen.getByTestId('prospects-next') as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByText(/101–120 of/)).toBeTruthy();

    fireEvent.click(screen.getByTestId('prospects-prev'));
    await waitFor(() => expect(ids()[0]).toBe('p-000051'));
    fireEvent.click(screen.getByTestId('prospects-prev'));
    await waitFor(() => expect(ids()[0]).toBe('p-000001'));
    expect(calls.at(-1)!.url.searchParams.has('cursor')).toBe(false);
  });

  it('debounces the search and starts again from the first page', async () => {
    const calls = mockFetch(server());
    render(<ProspectsPage />);
    await waitFor(() => expect(ids()).toHaveLength(50));
    fireEvent.click(screen.getByTestId('prospects-next'));
    await waitFor(() => expect(ids()[0]).toBe('p-000051'));
    const before = calls.length;
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const input = screen.getByTestId('prospects-search');
    fireEvent.change(input, { target: { value: 'P' } });
    fireEvent.change(input, { target: { value: 'Pe' } });
    fireEvent.change(input, { target: { value: 'Person 11' } });
    await act(async () => {
      vi.advanceTimersByTime(100);
    });
    expect(calls.length).toBe(before);
    await act(async () => {
      vi.advanceTimersByTime(400);
    });
    vi.useRealTimers();
    await waitFor(() => expect(ids()).toEqual(['p-000011', 'p-000110', 'p-000111', 'p-000112', 'p-000113', 'p-000114', 'p-000115', 'p-000116', 'p-000117', 'p-000118', 'p-000119']));
    const searches = calls.slice(before).map((c) => c.url.searchParams.get('search'));
    expect(searches).toEqual(['Person 11']);
    expect(calls.at(-1)!.url.searchParams.has('cursor')).toBe(false);
  });

  it('sends the filters as comma-separated sets', async () => {
    const calls = mockFetch(server());
    render(<ProspectsPage />);
    await waitFor(() => expect(ids()).toHaveLength(50));
    const status = screen.getByTestId('prospects-filter-status');
    fireEvent.click(within(status).getByRole('button'));
    fireEvent.click(within(status).getByRole('checkbox', { name: 'new' }));
    fireEvent.click(within(status).getByRole('checkbox', { name: 'replied' }));
    const industry = screen.getByTestId('prospects-filter-industry');
    fireEvent.click(within(industry).getByRole('button'));
    fireEvent.click(within(industry).getByRole('checkbox', { name: 'SaaS' }));
    await waitFor(() => expect(calls.at(-1)!.url.searchParams.get('industry')).toBe('SaaS'));
    expect(calls.at(-1)!.url.searchParams.get('status')).toBe('new,replied');
  });

  it('sorts by a header (asc, desc, off); a gateway refusing `sort` is used without it', async () => {
    const calls = mockFetch(server());
    const { unmount } = render(<ProspectsPage />);
    await waitFor(() => expect(ids()).toHaveLength(50));
    fireEvent.click(screen.getByTestId('prospects-sort-company'));
    await waitFor(() => expect(calls.at(-1)!.url.searchParams.get('sort')).toBe('company'));
    fireEvent.click(screen.getByTestId('prospects-sort-company'));
    await waitFor(() => expect(calls.at(-1)!.url.searchParams.get('sort')).toBe('-company'));
    expect(screen.getByTestId('prospects-sort-company').closest('th')!.getAttribute('aria-sort')).toBe('descending');
    fireEvent.click(screen.getByTestId('prospects-sort-company'));
    await waitFor(() => expect(calls.at(-1)!.url.searchParams.has('sort')).toBe(false));
    unmount();

    const calls2 = mockFetch(server({ refuseSort: true }));
    render(<ProspectsPage />);
    await waitFor(() => expect(ids()).toHaveLength(50));
    fireEvent.click(screen.getByTestId('prospects-sort-name'));
    await waitFor(() => expect(screen.getByText(/does not sort prospects yet/)).toBeTruthy());
    expect(calls2.at(-1)!.url.searchParams.has('sort')).toBe(false);
    expect(ids()).toHaveLength(50);
    expect(screen.queryByTestId('prospects-sort-name')).toBeNull();
  });

  it('edits a prospect: PATCH with the changes, a field error under its field', async () => {
    let patched: unknown = null;
    const list = server();
    mockFetch((c) => {
      if (c.method === 'PATCH') {
        patched = c.body;
        if ((c.body as { email?: string }).email === 'bad')
          return json({ type: 'x/invalid-field', title: 'Invalid field', status: 400, detail: 'email: must be an address like name@example.com', field: 'email' }, 400);
        return json({ ...prospect(1), ...(c.body as object) });
      }
      return list(c);
    });
    render(<ProspectsPage />);
    await waitFor(() => expect(ids()).toHaveLength(50));
    fireEvent.click(screen.getAllByTestId('prospect-edit-open')[0]);
    fireEvent.change(screen.getByTestId('prospect-edit-email'), { target: { value: 'bad' } });
    fireEvent.click(screen.getByTestId('prospect-edit-save'));
    await waitFor(() => expect(screen.getByTestId('prospect-edit-error-email').textContent).toBe('must be an address like name@example.com'));
    expect(patched).toEqual({ email: 'bad' });
    fireEvent.change(screen.getByTestId('prospect-edit-email'), { target: { value: '' } });
    fireEvent.change(screen.getByTestId('prospect-edit-name'), { target: { value: 'Renamed One' } });
    fireEvent.click(screen.getByTestId('prospect-edit-save'));
    await waitFor(() => expect(screen.queryByTestId('prospect-edit-dialog')).toBeNull());
    expect(patched).toEqual({ name: 'Renamed One', email: null });
    expect(screen.getAllByTestId('prospects-row')[0].textContent).toContain('Renamed One');
  });
});
