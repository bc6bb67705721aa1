import { act, fireEvent, render, screen } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import VirtualList from './VirtualList';

describe('VirtualList', () => {
  it('renders only the rows in view of 10,000, and follows the scroll', async () => {
    const onRange = vi.fn();
    render(
      <VirtualList
        count={10_000}
        rowHeight={40}
        height={400}
        overscan={5}
        testId="list"
        onRangeChange={onRange}
        renderRow={(i) => <div data-testid="row">row {i}</div>}
      />,
    );
    const list = screen.getByTestId('list');
    expect(screen.getAllByTestId('row').length).toBeLessThan(30);
    expect(screen.getByText('row 0')).toBeTruthy();
    expect(onRange).toHaveBeenLastCalledWith(expect.objectContaining({ start: 0, totalHeight: 400_000 }));

    list.scrollTop = 200_000; // row 5000 at the top
    fireEvent.scroll(list);
    await act(() => new Promise((r) => requestAnimationFrame(() => r(undefined))));
    expect(screen.queryByText('row 0')).toBeNull();
    expect(screen.getByText('row 5000')).toBeTruthy();
    expect(screen.getAllByTestId('row').length).toBeLessThan(30);
    expect(onRange).toHaveBeenLastCalledWith(expect.objectContaining({ start: 4995 }));
  });

  it('shows the empty content for no rows', () => {
    render(<VirtualList count={0} rowHeight={40} renderRow={() => null} empty={<p>nothing</p>} />);
    expect(screen.getByText('nothing')).toBeTruthy();
  });
});
