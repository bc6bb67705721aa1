import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { json, mockFetch } from '../../test/fetchMock';
import RunPage from './RunPage';

describe('RunPage', () => {
  it('starts a dry run of pasted targets and goes to the job', async () => {
    window.history.replaceState(null, '', '/run');
    const calls = mockFetch((c) => {
      if (c.url.pathname === '/api/campaigns') return json([]);
      if (c.url.pathname === '/api/automation/contact-forms/run')
        return json({ job_id: 'j-01abc', status: 'queued', total: 2, duplicates: 0 }, 202);
      return json({}, 404);
    });
    render(<RunPage />);
    fireEvent.change(screen.getByTestId('run-targets'), { target: { value: 'acme.example\n\nhttps://beta.example/contact\n' } });
    fireEvent.change(screen.getByTestId('run-template'), { target: { value: 'Hi {{first_name|there}}' } });
    fireEvent.click(screen.getByTestId('run-enrich'));
    expect((screen.getByTestId('run-dry-run') as HTMLInputElement).checked).toBe(true);
    fireEvent.click(screen.getByTestId('run-start'));
    await waitFor(() => expect(window.location.pathname).toBe('/jobs/j-01abc'));
    const run = calls.find((c) => c.method === 'POST')!;
    expect(run.body).toEqual({
      message_template: 'Hi {{first_name|there}}',
      targets: ['acme.example', 'https://beta.example/contact'],
      options: { enrich: false, personalize: true, dry_run: true },
    });
    expect(run.headers['Idempotency-Key']).toMatch(/^dash-/);
  });

  it('asks for targets and a template before sending anything', () => {
    const calls = mockFetch(() => json([]));
    render(<RunPage />);
    fireEvent.click(screen.getByTestId('run-start'));
    expect(screen.getByTestId('run-targets-error').textContent).toMatch(/at least one/);
    expect(screen.getByText('Write the message template.')).toBeTruthy();
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(0);
  });

  it('shows a refused target on its line', async () => {
    mockFetch((c) => {
      if (c.method === 'POST')
        return json(
          {
            type: 'x/invalid-field',
            title: 'Invalid field',
            status: 400,
            detail: 'targets[1]: http://10.0.0.1/ names an internal address (private); a run may only target public web addresses',
            field: 'targets[1]',
          },
          400,
        );
      return json([]);
    });
    render(<RunPage />);
    fireEvent.change(screen.getByTestId('run-targets'), { target: { value: 'acme.example\n# skip\nhttp://10.0.0.1/' } });
    fireEvent.change(screen.getByTestId('run-template'), { target: { value: 'Hi' } });
    fireEvent.click(screen.getByTestId('run-start'));
    await waitFor(() => expect(screen.getByTestId('run-targets-error').textContent).toMatch(/^Line 3: http:\/\/10\.0\.0\.1\/ names an internal/));
  });

  it('previews the first targets through /api/llm/generate with their variables', async () => {
    const calls = mockFetch((c) => {
      if (c.url.pathname === '/api/llm/generate') {
        const b = c.body as { prompt: string; variables: Record<string, string> };
        return json({ output: `${b.prompt} <${b.variables.website}>`, provider: 'template', cached: false });
      }
      return json([]);
    });
    render(<RunPage />);
    fireEvent.change(screen.getByTestId('run-targets'), { target: { value: 'a.example\nb.example\nc.example\nd.example' } });
    fireEvent.change(screen.getByTestId('run-template'), { target: { value: 'Hi from {{sender.name|us}}' } });
    fireEvent.click(screen.getByTestId('run-preview'));
    await waitFor(() => expect(screen.getAllByTestId('run-preview-result')).toHaveLength(3));
    expect(screen.getAllByTestId('run-preview-result')[0].textContent).toContain('Hi from us <https://a.example>');
    expect(calls.filter((c) => c.url.pathname === '/api/llm/generate')).toHaveLength(3);
  });
});

describe('RunPage prospect picker', () => {
  it('selects all on the page (those with a website), across pages, and sends prospect_ids', async () => {
    const rows = Array.from({ length: 30 }, (_, i) => ({
      id: `p-${i + 1}`,
      name: `P ${i + 1}`,
      company: 'C',
      status: 'new',
      industry: null,
      lastContactDate: null,
      email: null,
      title: null,
      website: i === 1 ? null : `https://s${i + 1}.example/`,
    }));
    const calls = mockFetch((c) => {
      if (c.url.pathname === '/api/prospects') {
        const from = Number(c.url.searchParams.get('cursor') || 0);
        const limit = Number(c.url.searchParams.get('limit'));
        const h: Record<string, string> = { 'X-Total-Count': '30' };
        if (from + limit < 30) h.Link = `</api/prospects?cursor=${from + limit}>; rel="next"`;
        return json(rows.slice(from, from + limit), 200, h);
      }
      if (c.method === 'POST') return json({ job_id: 'j-2', status: 'queued', total: 25 }, 202);
      return json([]);
    });
    render(<RunPage />);
    fireEvent.click(screen.getByTestId('run-tab-pick'));
    await waitFor(() => expect(screen.getAllByTestId('prospects-row')).toHaveLength(25));
    fireEvent.click(screen.getByTestId('prospects-select-page'));
    expect(screen.getByTestId('run-target-count').textContent).toMatch(/^24 targets/);
    fireEvent.click(screen.getByTestId('prospects-next'));
    await waitFor(() => expect(screen.getAllByTestId('prospects-row')).toHaveLength(5));
    fireEvent.click(screen.getByLabelText('Select P 26'));
    expect(screen.getByTestId('run-target-count').textContent).toMatch(/^25 targets/);
    fireEvent.change(screen.getByTestId('run-template'), { target: { value: 'Hi {{first_name}}' } });
    fireEvent.click(screen.getByTestId('run-start'));
    await waitFor(() => expect(calls.some((c) => c.method === 'POST')).toBe(true));
    const body = calls.find((c) => c.method === 'POST')!.body as { prospect_ids: string[]; targets?: string[] };
    expect(body.targets).toBeUndefined();
    expect(body.prospect_ids).toHaveLength(25);
    expect(body.prospect_ids).not.toContain('p-2');
    expect(body.prospect_ids).toContain('p-26');
  });
});
