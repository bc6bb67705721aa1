// Message templates: `{{name}}`, `{{name|default}}` (workers/llm/README.md "Templates").
import type { Prospect, Sender } from '../types';

/** Inserts `text` in place of value[start, end) — the caret or the selection — and gives the caret after it. */
export function insertAt(value: string, start: number, end: number, text: string): { value: string; caret: number } {
  const s = Math.max(0, Math.min(start, value.length));
  const e = Math.max(s, Math.min(end, value.length));
  return { value: value.slice(0, s) + text + value.slice(e), caret: s + text.length };
}

export function placeholder(name: string): string {
  return `{{${name}}}`;
}

export interface Placeholder {
  name: string;
  /** The text after `|`, or null without one (`{{x|}}` has the default ""). */
  default: string | null;
  raw: string;
}

const RE = /\{\{\s*([A-Za-z0-9_.-]*)\s*(?:\|([^}]*))?\}\}/g;

/** The placeholders of a template, in order, each once. */
export function placeholdersOf(template: string): Placeholder[] {
  const seen = new Set<string>();
  const out: Placeholder[] = [];
  for (const m of template.matchAll(RE)) {
    const raw = m[0];
    if (seen.has(raw)) continue;
    seen.add(raw);
    out.push({ name: m[1], default: m[2] ?? null, raw });
  }
  return out;
}

export type Variables = Record<string, string>;

/** The variables a prospect gives a template (what the compose stage reads of it). */
export function prospectVariables(p: Prospect): Variables {
  const v: Variables = { prospect_id: p.id, name: p.name, company: p.company };
  const words = p.name.trim().split(/\s+/);
  if (words[0]) v.first_name = words[0];
  if (words.length > 1) v.last_name = words.slice(1).join(' ');
  if (p.industry) v.industry = p.industry;
  if (p.title) v.title = p.title;
  if (p.website) v.website = p.website;
  if (p.email) v.email = p.email;
  return v;
}

/** The variables of a pasted URL target. */
export function urlVariables(url: string): Variables {
  const u = /^https?:\/\//i.test(url) ? url : `https://${url}`;
  return { website: u };
}

/**
 * For a preview through /api/llm/generate, which renders only its `variables`: fills the
 * placeholders it cannot know — the sender's (from the form) and enrichment's (known only during
 * a run) — with the value, the default, or a visible marker `[company_info.name]`.
 */
export function prefillForPreview(template: string, sender: Partial<Sender> | undefined): string {
  return template.replace(RE, (raw, name: string, dflt: string | undefined) => {
    if (name.startsWith('sender.')) {
      const k = name.slice(7) as keyof Sender;
      const v = sender?.[k];
      if (v) return String(v);
      return dflt ?? `[${name}]`;
    }
    if (name.startsWith('company_info.') || name.startsWith('enrich.')) return dflt ?? `[${name}]`;
    return raw;
  });
}

/** Pasted targets: one URL or domain a line; blank lines and `#` comments skipped. */
export function parseTargets(text: string): { targets: string[]; lines: number[] } {
  const targets: string[] = [];
  const lines: number[] = [];
  text.split(/\r\n|\r|\n/).forEach((l, i) => {
    const t = l.trim();
    if (!t || t.startsWith('#')) return;
    targets.push(t);
    lines.push(i + 1);
  });
  return { targets, lines };
}
