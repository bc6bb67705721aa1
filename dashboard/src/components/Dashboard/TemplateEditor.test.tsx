import { fireEvent, render, screen } from '@testing-library/react';
import { useState } from 'react';
import { describe, expect, it } from 'vitest';
import TemplateEditor from './TemplateEditor';

function Harness({ initial }: { initial: string }) {
  const [v, setV] = useState(initial);
  return <TemplateEditor value={v} onChange={setV} />;
}

describe('TemplateEditor', () => {
  it('inserts a chip at the caret and leaves the caret after it', () => {
    render(<Harness initial="Hi , welcome" />);
    const ta = screen.getByTestId('run-template') as HTMLTextAreaElement;
    ta.focus();
    ta.setSelectionRange(3, 3);
    fireEvent.click(screen.getByTestId('run-chip-first_name'));
    expect(ta.value).toBe('Hi {{first_name}}, welcome');
    expect(ta.selectionStart).toBe(17);
    fireEvent.click(screen.getByTestId('run-chip-company'));
    expect(ta.value).toBe('Hi {{first_name}}{{company}}, welcome');
  });

  it('replaces a selection', () => {
    render(<Harness initial="Dear NAME," />);
    const ta = screen.getByTestId('run-template') as HTMLTextAreaElement;
    ta.setSelectionRange(5, 9);
    fireEvent.click(screen.getByTestId('run-chip-name'));
    expect(ta.value).toBe('Dear {{name}},');
  });

  it('warns about a variable that is no prospect field', () => {
    render(<Harness initial="Hi {{nickname}} {{first_name}} {{foo|bar}}" />);
    expect(screen.getByText(/Not a prospect field/).textContent).toContain('{{nickname}}');
    expect(screen.getByText(/Not a prospect field/).textContent).not.toContain('foo');
  });
});
