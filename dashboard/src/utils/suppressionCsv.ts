/*
 * Importing opt-outs from a CSV file in the browser: the file is parsed here (RFC 4180: quoted
 * cells, doubled quotes, CRLF/LF/CR line ends, a byte order mark, blank lines skipped), each value
 * is given its kind, and the values go to POST /api/suppressions as JSON {domains, emails, reason}
 * in batches (one reason per batch), so that a long list shows its progress and one bad batch does
 * not lose the others. The server normalises and validates every value (docs/api.md,
 * "Suppressions"); what it rejects is mapped back to the file's line.
 *
 * Columns: with a header row, the value is read from the first of `value`, `email`, `e-mail`,
 * `email address`, `domain`, `website`, `url`, `site` (a prospects export works: its `email`
 * column), with optional `kind` and `reason` columns. Without one, a row is
 * `value[,kind[,reason]]`, as the server reads a CSV body.
 */

export type SuppressionKind = 'domain' | 'email';

export interface SuppressionEntry {
  line: number; // 1-based line of the file where the record starts
  value: string;
  kind: SuppressionKind;
  reason?: string;
}

export interface RejectedValue {
  line: number;
  value: string;
  detail: string;
}

export interface ParsedSuppressions {
  entries: SuppressionEntry[];
  rejected: RejectedValue[];
  /** the header's cells, when the first row is one */
  header: string[] | null;
  /** the column the values were read from (its header name, or "1") */
  column: string;
}

export interface CsvRecord {
  line: number;
  cells: string[];
}

/** Splits CSV text into records (RFC 4180, lenient: a stray quote inside a cell is kept). */
export function parseCsv(text: string): CsvRecord[] {
  const s = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const out: CsvRecord[] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false; // inside a quoted cell
  let line = 1;
  let recLine = 1;
  let i = 0;
  const endRecord = () => {
    cells.push(cell);
    cell = '';
    if (!(cells.length === 1 && cells[0].trim() === '')) out.push({ line: recLine, cells });
    cells = [];
  };
  while (i < s.length) {
    const ch = s[i];
    if (quoted) {
      if (ch === '"') {
        if (s[i + 1] === '"') {
          cell += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      if (ch === '\n' || (ch === '\r' && s[i + 1] !== '\n')) line++;
      cell += ch;
      i++;
      continue;
    }
    if (ch === '"' && cell.trim() === '') {
      quoted = true;
      cell = '';
      i++;
      continue;
    }
    if (ch === ',') {
      cells.push(cell);
      cell = '';
      i++;
      continue;
    }
    if (ch === '\r' || ch === '\n') {
      endRecord();
      i += ch === '\r' && s[i + 1] === '\n' ? 2 : 1;
      line++;
      recLine = line;
      continue;
    }
    cell += ch;
    i++;
  }
  if (cell !== '' || cells.length) endRecord();
  return out;
}

const VALUE_COLUMNS = ['value', 'email', 'e-mail', 'email address', 'domain', 'website', 'url', 'site'];
const KNOWN_COLUMNS = new Set([...VALUE_COLUMNS, 'kind', 'reason', 'type']);
const EMAIL_COLUMNS = new Set(['email', 'e-mail', 'email address']);

/** The kind the server would infer: an address has an `@` outside a URL. */
export function inferKind(value: string): SuppressionKind {
  const v = value.trim();
  if (/^https?:\/\//i.test(v)) return 'domain';
  return v.includes('@') ? 'email' : 'domain';
}

function norm(h: string): string {
  return h.trim().toLowerCase().replace(/[_\s]+/g, ' ');
}

/** Reads a CSV of domains and addresses (see the header of this file). */
export function parseSuppressionCsv(text: string): ParsedSuppressions {
  const records = parseCsv(text);
  const entries: SuppressionEntry[] = [];
  const rejected: RejectedValue[] = [];
  if (!records.length) return { entries, rejected, header: null, column: '1' };
  const first = records[0].cells.map(norm);
  const isHeader = first.some((c) => KNOWN_COLUMNS.has(c));
  let valueCol = 0;
  let kindCol = 1;
  let reasonCol = 2;
  let column = '1';
  let fixedKind: SuppressionKind | null = null;
  let rows = records;
  if (isHeader) {
    const vc = VALUE_COLUMNS.map((n) => first.indexOf(n)).find((i) => i >= 0);
    kindCol = first.indexOf('kind') >= 0 ? first.indexOf('kind') : first.indexOf('type');
    reasonCol = first.indexOf('reason');
    rows = records.slice(1);
    if (vc === undefined) {
      return {
        entries,
        rejected: [
          {
            line: records[0].line,
            value: records[0].cells.join(','),
            detail: `no value column: name one of ${VALUE_COLUMNS.join(', ')}`,
          },
        ],
        header: records[0].cells,
        column: '',
      };
    }
    valueCol = vc;
    column = records[0].cells[vc].trim();
    const name = first[vc];
    if (EMAIL_COLUMNS.has(name)) fixedKind = 'email';
    else if (name !== 'value') fixedKind = 'domain';
  }
  for (const rec of rows) {
    const value = (rec.cells[valueCol] ?? '').trim();
    if (!value) {
      // a row whose value cell is empty: skipped quietly in a multi-column export, reported
      // when the file is a bare list
      if (!isHeader || rec.cells.every((c) => !c.trim())) continue;
      rejected.push({ line: rec.line, value: rec.cells.join(','), detail: `no ${column} in this row` });
      continue;
    }
    const kindCell = kindCol >= 0 ? (rec.cells[kindCol] ?? '').trim().toLowerCase() : '';
    let kind: SuppressionKind;
    if (kindCell === 'domain' || kindCell === 'email') kind = kindCell;
    else if (kindCell === '') kind = fixedKind ?? inferKind(value);
    else {
      rejected.push({ line: rec.line, value, detail: `kind "${kindCell}": must be domain or email` });
      continue;
    }
    const reason = reasonCol >= 0 ? (rec.cells[reasonCol] ?? '').trim() : '';
    entries.push(reason ? { line: rec.line, value, kind, reason } : { line: rec.line, value, kind });
  }
  return { entries, rejected, header: isHeader ? records[0].cells : null, column };
}

/** Splits a textarea's contents (commas, semicolons, blanks, new lines) into values. */
export function splitValues(text: string): string[] {
  return text
    .split(/[\s,;]+/)
    .map((v) => v.trim())
    .filter(Boolean);
}

export interface SuppressionBatch {
  body: { domains: string[]; emails: string[]; reason?: string };
  /** the file line of each value, by field and index */
  lines: { domains: number[]; emails: number[] };
}

/** Groups entries into request bodies of at most `size` values, one reason per body. */
export function planBatches(
  entries: readonly SuppressionEntry[],
  size = 1000,
  defaultReason?: string,
): SuppressionBatch[] {
  const byReason = new Map<string, SuppressionEntry[]>();
  for (const e of entries) {
    const r = e.reason || defaultReason || '';
    let list = byReason.get(r);
    if (!list) byReason.set(r, (list = []));
    list.push(e);
  }
  const out: SuppressionBatch[] = [];
  for (const [reason, list] of byReason) {
    for (let i = 0; i < list.length; i += size) {
      const b: SuppressionBatch = {
        body: { domains: [], emails: [] },
        lines: { domains: [], emails: [] },
      };
      if (reason) b.body.reason = reason.slice(0, 500);
      for (const e of list.slice(i, i + size)) {
        const field = e.kind === 'email' ? 'emails' : 'domains';
        b.body[field].push(e.value);
        b.lines[field].push(e.line);
      }
      out.push(b);
    }
  }
  return out;
}

/** POST /api/suppressions's answer (SuppressionResult). */
export interface SuppressionResult {
  added: number;
  existing: number;
  rejected_total: number;
  rejected: { line?: number; field?: 'domains' | 'emails'; index?: number; value?: string | null; detail?: string }[];
}

export interface ImportProgress {
  batches: number;
  done: number;
  values: number;
  sent: number;
  added: number;
  existing: number;
  rejected: RejectedValue[];
  /** rejected values in all (the server lists the first 1,000 of a batch) */
  rejectedTotal: number;
  /** batches that failed (the request itself), with why */
  failed: { batch: number; lines: [number, number]; error: string }[];
}

/** Maps a batch's rejected values back to file lines. */
export function rejectedLines(batch: SuppressionBatch, res: SuppressionResult): RejectedValue[] {
  return (res.rejected || []).map((r) => {
    const lines = r.field ? batch.lines[r.field] : undefined;
    const line = lines && typeof r.index === 'number' ? (lines[r.index] ?? 0) : (r.line ?? 0);
    return { line, value: r.value ?? '', detail: r.detail ?? 'rejected' };
  });
}

/**
 * Sends the batches one after the other (a failed batch is recorded and the next one sent),
 * calling onProgress after each. `signal` stops between batches.
 */
export async function importSuppressions(
  parsed: Pick<ParsedSuppressions, 'entries' | 'rejected'>,
  post: (body: SuppressionBatch['body']) => Promise<SuppressionResult>,
  onProgress?: (p: ImportProgress) => void,
  opts: { batchSize?: number; reason?: string; signal?: AbortSignal } = {},
): Promise<ImportProgress> {
  const batches = planBatches(parsed.entries, opts.batchSize ?? 1000, opts.reason);
  const p: ImportProgress = {
    batches: batches.length,
    done: 0,
    values: parsed.entries.length,
    sent: 0,
    added: 0,
    existing: 0,
    rejected: [...parsed.rejected],
    rejectedTotal: parsed.rejected.length,
    failed: [],
  };
  onProgress?.({ ...p });
  for (let i = 0; i < batches.length; i++) {
    if (opts.signal?.aborted) break;
    const b = batches[i];
    const n = b.body.domains.length + b.body.emails.length;
    try {
      const res = await post(b.body);
      p.added += res.added || 0;
      p.existing += res.existing || 0;
      const rej = rejectedLines(b, res);
      p.rejected.push(...rej);
      p.rejectedTotal += Math.max(res.rejected_total || 0, rej.length);
    } catch (e) {
      const all = [...b.lines.domains, ...b.lines.emails];
      p.failed.push({
        batch: i + 1,
        lines: [Math.min(...all), Math.max(...all)],
        error: e instanceof Error ? e.message : String(e),
      });
    }
    p.sent += n;
    p.done = i + 1;
    onProgress?.({ ...p, rejected: p.rejected, failed: p.failed });
  }
  p.rejected.sort((a, b) => a.line - b.line);
  return p;
}
