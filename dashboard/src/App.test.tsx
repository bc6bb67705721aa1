import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import App from './App';
import { ThemeProvider } from './contexts/ThemeContext';
import { json, mockFetch } from './test/fetchMock';

const renderApp = () =>
  render(
    <ThemeProvider>
      <App />
    </ThemeProvider>,
  );

describe('App', () => {
  it('asks for a key on 401, and loads again with the saved key', async () => {
    window.history.replaceState(null, '', '/');
    const calls = mockFetch((c) =>
      c.headers.Authorization === 'Bearer good-key-0123456789'
        ? json([{ id: 'p-1', name: 'Ada', company: 'A', status: 'new', industry: null, lastContactDate: null, email: null, title: null, website: null }], 200, { 'X-Total-Count': '1' })
        : json({ type: 'x/unauthorized', title: 'Unauthorized', status: 401, detail: 'a valid API key is required' }, 401),
    );
    renderApp();
    await waitFor(() => expect(screen.getByTestId('api-banner').textContent).toMatch(/needs a key/));
    fireEvent.change(screen.getByTestId('api-key-input'), { target: { value: 'good-key-0123456789' } });
    fireEvent.click(screen.getByTestId('api-key-save'));
    await waitFor(() => expect(screen.getAllByTestId('prospects-row')).toHaveLength(1));
    expect(localStorage.getItem('pa.apiKey')).toBe('good-key-0123456789');
    expect(screen.queryByTestId('api-banner')).toBeNull();
    expect(calls.at(-1)!.headers.Authorization).toBe('Bearer good-key-0123456789');
  });

  it('says the key is refused when one is stored, and the API unreachable on a network failure', async () => {
    window.history.replaceState(null, '', '/prospects');
    localStorage.setItem('pa.apiKey', 'wrong-key-0123456789');
    let down = false;
    mockFetch(() => {
      if (down) throw new TypeError('Failed to fetch');
      return json({ type: 'x/unauthorized', title: 'Unauthorized', status: 401 }, 401);
    });
    renderApp();
    await waitFor(() => expect(screen.getByTestId('api-banner').textContent).toMatch(/refused the key/));
    down = true;
    fireEvent.click(screen.getByRole('button', { name: 'Retry' }));
    await waitFor(() => expect(screen.getByTestId('api-banner').textContent).toMatch(/API unreachable/));
  });

  it('navigates with pushState and marks the current page; toggles the theme', async () => {
    window.history.replaceState(null, '', '/');
    mockFetch(() => json([]));
    renderApp();
    expect(screen.getByTestId('nav-prospects').getAttribute('aria-current')).toBe('page');
    fireEvent.click(screen.getByTestId('nav-campaigns'));
    expect(window.location.pathname).toBe('/campaigns');
    await waitFor(() => expect(screen.getByTestId('nav-campaigns').getAttribute('aria-current')).toBe('page'));
    await screen.findByRole('heading', { name: 'Campaigns' });
    const before = document.documentElement.classList.contains('dark');
    fireEvent.click(screen.getByTestId('theme-toggle'));
    expect(document.documentElement.classList.contains('dark')).toBe(!before);
    expect(localStorage.getItem('pa.theme')).toBe(before ? 'light' : 'dark');
  });
});
