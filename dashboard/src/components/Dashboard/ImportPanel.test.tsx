import { act, fireEvent, render, screen } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import ImportPanel from './ImportPanel';

class FakeXhr {
  static last: FakeXhr;
  headers: Record<string, string> = {};
  status = 0;
  statusText = '';
  responseText = '';
  upload: { onprogress?: (e: Partial<ProgressEvent>) => void; onload?: () => void } = {};
  onload?: () => void;
  onerror?: () => void;
  onabort?: () => void;
  sent: unknown;
  constructor() {
    FakeXhr.last = this;
  }
  open() {}
  setRequestHeader(k: string, v: string) {
    this.headers[k] = v;
  }
  getResponseHeader(k: string) {
    return k === 'Content-Type' ? 'application/json' : null;
  }
  send(b: unknown) {
    this.sent = b;
  }
  abort() {
    this.onabort?.();
  }
}

function pick(name: string, text: string) {
  const input = screen.getByTestId('import-file') as HTMLInputElement;
  fireEvent.change(input, { target: { files: [new File([text], name)] } });
}

describe('ImportPanel', () => {
  it('shows the upload progress, then the counts and the rejected rows with their lines', async () => {
    vi.stubGlobal('XMLHttpRequest', FakeXhr);
    const onImported = vi.fn();
    render(<ImportPanel onImported={onImported} />);
    const csv = 'name,company,email\n' + 'A,B,a@b.example\n'.repeat(99);
    pick('people.csv', csv);
    fireEvent.click(screen.getByTestId('import-start'));
    const x = FakeXhr.last;
    expect(x.headers['Content-Type']).toBe('text/csv');
    expect(screen.getByTestId('import-progress').getAttribute('aria-valuenow')).toBe('0');
    act(() => x.upload.onprogress!({ loaded: csv.length / 2, total: csv.length, lengthComputable: true }));
    expect(Number(screen.getByTestId('import-progress').getAttribute('aria-valuenow'))).toBeCloseTo(50, 0);
    expect(screen.getByText('Uploading…')).toBeTruthy();
    act(() => x.upload.onprogress!({ loaded: csv.length, total: csv.length, lengthComputable: true }));
    expect(screen.getByText(/gateway is importing/)).toBeTruthy();
    x.status = 200;
    x.responseText = JSON.stringify({
      imported: 1997,
      updated: 1,
      rejected_total: 2,
      rejected: [
        { line: 1236, error: 'email: must be an address like name@example.com' },
        { line: 7, error: 'name: must be a string of 1 to 200 characters' },
      ],
    });
    await act(async () => x.onload!());
    expect(screen.getByTestId('import-created').textContent).toBe('1,997');
    expect(screen.getByTestId('import-updated').textContent).toBe('1');
    const rows = screen.getAllByTestId('import-rejected');
    expect(rows.map((r) => r.getAttribute('data-line'))).toEqual(['7', '1236']);
    expect(rows[1].textContent).toContain('email: must be an address');
    expect(onImported).toHaveBeenCalledTimes(1);
  });

  it('refuses a file that is not CSV or JSON lines', () => {
    vi.stubGlobal('XMLHttpRequest', FakeXhr);
    render(<ImportPanel onImported={() => undefined} />);
    pick('people.xlsx', 'x');
    expect((screen.getByTestId('import-start') as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByText(/Pick a .csv/)).toBeTruthy();
  });

  it('shows how far an import cut by Redis got', async () => {
    vi.stubGlobal('XMLHttpRequest', FakeXhr);
    render(<ImportPanel onImported={() => undefined} />);
    pick('p.ndjson', '{"name":"a","company":"b"}\n');
    fireEvent.click(screen.getByTestId('import-start'));
    const x = FakeXhr.last;
    expect(x.headers['Content-Type']).toBe('application/x-ndjson');
    x.status = 503;
    x.responseText = JSON.stringify({
      type: 'x/unavailable',
      title: 'Service unavailable',
      status: 503,
      detail: 'Redis failed during the import',
      imported: 2217,
      written_through_line: 2217,
      not_written_from_line: 2561,
    });
    await act(async () => x.onload!());
    expect(screen.getByRole('alert').textContent).toContain('Redis failed during the import');
    expect(screen.getByText(/Rows up to line 2,217 were written/).textContent).toContain('none from line 2,561 on');
    expect(screen.getByTestId('import-start').textContent).toBe('Send again');
  });
});
