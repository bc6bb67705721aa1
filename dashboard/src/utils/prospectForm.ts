// The edit form of a prospect: text fields in, a JSON merge patch out (only what changed; an
// emptied optional field is null, which clears it).
import type { Prospect, ProspectPatch, ProspectStatus } from '../types';

export const EDIT_FIELDS = ['name', 'company', 'status', 'industry', 'lastContactDate', 'email', 'title', 'website'] as const;
export type EditField = (typeof EDIT_FIELDS)[number];
export type ProspectForm = Record<EditField, string>;

const OPTIONAL: ReadonlySet<EditField> = new Set(['industry', 'lastContactDate', 'email', 'title', 'website']);

export function formOf(p: Prospect): ProspectForm {
  return {
    name: p.name,
    company: p.company,
    status: p.status,
    industry: p.industry ?? '',
    lastContactDate: p.lastContactDate ?? '',
    email: p.email ?? '',
    title: p.title ?? '',
    website: p.website ?? '',
  };
}

/** The merge patch from `p` to `form`; {} when nothing changed. */
export function patchOf(p: Prospect, form: ProspectForm): ProspectPatch {
  const before = formOf(p);
  const patch: Record<string, string | null> = {};
  for (const f of EDIT_FIELDS) {
    const v = f === 'status' ? form[f] : form[f].trim();
    if (v === before[f]) continue;
    patch[f] = v === '' && OPTIONAL.has(f) ? null : v;
  }
  return patch as ProspectPatch & { status?: ProspectStatus };
}

/** Which form field a problem's `field` names (`email`, `/email`, `body.email`...). */
export function formFieldOf(field: string): EditField | null {
  const f = field.replace(/^\/+/, '').replace(/^body\./, '');
  return (EDIT_FIELDS as readonly string[]).includes(f) ? (f as EditField) : null;
}
