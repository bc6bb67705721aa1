import { describe, expect, it } from 'vitest';
import { ariaSort, nextSort, parseSort, sortDir } from './sort';

describe('sort header state', () => {
  it('cycles a column: ascending, descending, none', () => {
    expect(nextSort(null, 'name')).toBe('name');
    expect(nextSort('name', 'name')).toBe('-name');
    expect(nextSort('-name', 'name')).toBeNull();
  });
  it('starts ascending on another column', () => {
    expect(nextSort('-name', 'company')).toBe('company');
    expect(nextSort('lastContactDate', 'status')).toBe('status');
  });
  it('tells each column its direction', () => {
    expect(sortDir('-company', 'company')).toBe('desc');
    expect(sortDir('-company', 'name')).toBeNull();
    expect(ariaSort('industry', 'industry')).toBe('ascending');
    expect(ariaSort('-industry', 'industry')).toBe('descending');
    expect(ariaSort(null, 'industry')).toBe('none');
  });
  it('parses only known keys', () => {
    expect(parseSort('-lastContactDate')).toBe('-lastContactDate');
    expect(parseSort('email')).toBeNull();
    expect(parseSort('')).toBeNull();
  });
});
