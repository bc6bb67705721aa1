import { describe, expect, it } from 'vitest';
import type { Prospect } from '../types';
import { insertAt, parseTargets, placeholdersOf, prefillForPreview, prospectVariables, urlVariables } from './template';

describe('template chips', () => {
  it('inserts at the caret', () => {
    expect(insertAt('Hi , welcome', 3, 3, '{{name}}')).toEqual({ value: 'Hi {{name}}, welcome', caret: 11 });
  });
  it('replaces the selection', () => {
    expect(insertAt('Hi NAME!', 3, 7, '{{first_name}}')).toEqual({ value: 'Hi {{first_name}}!', caret: 17 });
  });
  it('appends at the end and clamps positions out of range', () => {
    expect(insertAt('Hi', 2, 2, ' {{company}}')).toEqual({ value: 'Hi {{company}}', caret: 14 });
    expect(insertAt('Hi', 99, 120, '!')).toEqual({ value: 'Hi!', caret: 3 });
    expect(insertAt('', 0, 0, '{{title}}')).toEqual({ value: '{{title}}', caret: 9 });
  });
});

describe('placeholders', () => {
  it('lists them once each, with defaults', () => {
    expect(placeholdersOf('Hi {{first_name|there}}, {{company}} and {{company}} {{ title }} {{x|}}')).toEqual([
      { name: 'first_name', default: 'there', raw: '{{first_name|there}}' },
      { name: 'company', default: null, raw: '{{company}}' },
      { name: 'title', default: null, raw: '{{ title }}' },
      { name: 'x', default: '', raw: '{{x|}}' },
    ]);
  });
  it('fills sender and enrichment placeholders for a preview', () => {
    const t = 'From {{sender.name}} ({{sender.company|Us}}) to {{company_info.name}} {{company_info.industry|}} {{first_name}}';
    expect(prefillForPreview(t, { name: 'Sam', email: 's@x.example' })).toBe('From Sam (Us) to [company_info.name]  {{first_name}}');
  });
});

describe('variables', () => {
  it('of a prospect: first and last name split at the first blank; nulls left out', () => {
    const p: Prospect = {
      id: 'p-1',
      name: 'Ada  King Lovelace',
      company: 'Engines',
      status: 'new',
      industry: null,
      lastContactDate: null,
      email: 'ada@engines.example',
      title: 'CTO',
      website: 'https://engines.example/',
    };
    expect(prospectVariables(p)).toEqual({
      prospect_id: 'p-1',
      name: 'Ada  King Lovelace',
      company: 'Engines',
      first_name: 'Ada',
      last_name: 'King Lovelace',
      title: 'CTO',
      website: 'https://engines.example/',
      email: 'ada@engines.example',
    });
  });
  it('of a URL target', () => {
    expect(urlVariables('acme.example')).toEqual({ website: 'https://acme.example' });
    expect(urlVariables('http://b.example/contact')).toEqual({ website: 'http://b.example/contact' });
  });
  it('parses pasted targets with their line numbers', () => {
    expect(parseTargets('acme.example\n\n  # a comment\r\n https://b.example/contact \r\nc.example')).toEqual({
      targets: ['acme.example', 'https://b.example/contact', 'c.example'],
      lines: [1, 4, 5],
    });
  });
});
