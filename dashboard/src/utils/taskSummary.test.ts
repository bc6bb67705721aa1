import { describe, expect, it } from 'vitest';
import { messageField, oneLine, summarizeTask } from './taskSummary';

describe('summarizeTask', () => {
  it('reads a submitted task: outcome, evidence, the composed message', () => {
    const s = summarizeTask({
      enrich: { domain: 'acme.example', company_info: { name: 'Acme' }, server: 'default' },
      compose: { message: 'Hi Ada, ...', provider: 'template' },
      submit: {
        outcome: 'submitted',
        detail: 'the answer thanks the sender',
        page_url: 'https://acme.example/contact/',
        evidence: { status: 200, final_url: 'https://acme.example/thanks/', excerpt: 'Thank you   for\nyour message' },
      },
    });
    expect(s.outcome).toBe('submitted');
    expect(s.message).toBe('Hi Ada, ...');
    expect(s.evidence).toBe('HTTP 200 · https://acme.example/thanks/ · “Thank you for your message”');
    expect(s.pageUrl).toBe('https://acme.example/contact/');
    expect(s.enrich).toBe('Acme');
  });

  it('reads a dry run: the message of the request it would have sent', () => {
    const s = summarizeTask({
      submit: {
        outcome: 'dry_run',
        would: 'submit',
        request: { method: 'POST', url: 'https://b.example/c', fields: [{ name: 'msg', kind: 'message', value: 'Hello' }] },
      },
    });
    expect(s.outcome).toBe('dry_run');
    expect(s.would).toBe('submit');
    expect(s.message).toBe('Hello');
  });

  it('reads a CAPTCHA and a failure', () => {
    const c = summarizeTask({
      submit: { outcome: 'captcha_required', reason: 'captcha', captcha: { kind: 'recaptcha_v2', evidence: '<div>' } },
    });
    expect(c.evidence).toBe('CAPTCHA: recaptcha_v2');
    const f = summarizeTask({ submit: { outcome: 'failed', reason: 'validation_errors', evidence: { status: 200, errors: ['email is required'] } } });
    expect(f.reason).toBe('validation_errors');
    expect(f.evidence).toBe('HTTP 200 · email is required');
  });

  it('falls back to the task error when there is no submit result', () => {
    const s = summarizeTask({ enrich: { skipped: true, reason: 'no MCP server' } }, 'llm: provider timeout');
    expect(s.outcome).toBeNull();
    expect(s.reason).toBe('llm');
    expect(s.detail).toBe('provider timeout');
    expect(s.enrich).toBe('skipped: no MCP server');
    expect(summarizeTask(undefined)).toMatchObject({ outcome: null, message: null, evidence: null });
  });
});

describe('helpers', () => {
  it('finds the message field by kind, else by name', () => {
    expect(messageField([{ name: 'your-message', kind: 'other', value: 'x' }])).toBe('x');
    expect(messageField([{ name: 'a', kind: 'email', value: 'e' }])).toBeNull();
  });
  it('shortens to one line', () => {
    expect(oneLine('a\n b', 10)).toBe('a b');
    expect(oneLine('abcdefghijkl', 5)).toBe('abcd…');
  });
});
