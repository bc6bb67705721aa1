// @vitest-environment jsdom
import { describe, expect, it, vi } from 'vitest';
import { copyText, copyWithExecCommand } from './clipboard';

describe('copyText', () => {
  it('uses the Clipboard API when there is one', async () => {
    const writeText = vi.fn().mockResolvedValue(undefined);
    const execCommand = vi.fn();
    document.execCommand = execCommand;
    expect(await copyText('hello', { clipboard: { writeText }, document })).toBe(true);
    expect(writeText).toHaveBeenCalledWith('hello');
    expect(execCommand).not.toHaveBeenCalled();
  });

  it('falls back to execCommand when the API refuses', async () => {
    const writeText = vi.fn().mockRejectedValue(new Error('NotAllowedError'));
    let selected = '';
    document.execCommand = vi.fn(() => {
      const ta = document.querySelector('textarea');
      selected = ta ? ta.value.slice(ta.selectionStart ?? 0, ta.selectionEnd ?? 0) : '';
      return true;
    });
    expect(await copyText('a value, in full', { clipboard: { writeText }, document })).toBe(true);
    expect(selected).toBe('a value, in full');
    expect(document.querySelector('textarea')).toBeNull(); // cleaned up
  });

  it('falls back when there is no Clipboard API (plain http)', async () => {
    document.execCommand = vi.fn(() => true);
    expect(await copyText('x', { clipboard: null, document })).toBe(true);
    expect(document.execCommand).toHaveBeenCalledWith('copy');
  });

  it('says false when nothing could copy, and gives the focus back', async () => {
    const button = document.createElement('button');
    document.body.appendChild(button);
    button.focus();
    document.execCommand = vi.fn(() => {
      throw new Error('unsupported');
    });
    expect(copyWithExecCommand('x', document)).toBe(false);
    expect(document.activeElement).toBe(button);
    expect(await copyText('x', { clipboard: null, document: null })).toBe(false);
    button.remove();
  });
});
