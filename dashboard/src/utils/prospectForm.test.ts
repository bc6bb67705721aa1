import { describe, expect, it } from 'vitest';
import type { Prospect } from '../types';
import { formFieldOf, formOf, patchOf } from './prospectForm';

const P: Prospect = {
  id: 'p-1',
  name: 'Zoe Bianchi',
  company: 'Blue Learning SA',
  status: 'researching',
  industry: 'Logistics',
  lastContactDate: null,
  email: 'zoe@blue.example',
  title: 'CTO',
  website: null,
};

describe('prospect edit form', () => {
  it('patches nothing when nothing changed', () => {
    expect(patchOf(P, formOf(P))).toEqual({});
  });
  it('patches only changed fields, trims, and clears emptied optional fields with null', () => {
    const f = { ...formOf(P), name: ' Zoe B. ', status: 'contacted', title: '', lastContactDate: '2026-11-24' };
    expect(patchOf(P, f)).toEqual({ name: 'Zoe B.', status: 'contacted', title: null, lastContactDate: '2026-11-24' });
  });
  it('sends an emptied required field as "" (the gateway says what is wrong)', () => {
    expect(patchOf(P, { ...formOf(P), company: '  ' })).toEqual({ company: '' });
  });
  it('maps problem fields to form fields', () => {
    expect(formFieldOf('email')).toBe('email');
    expect(formFieldOf('/website')).toBe('website');
    expect(formFieldOf('id')).toBeNull();
  });
});
