import type { Sender } from '../../types';

export type SenderForm = Record<'name' | 'email' | 'company' | 'phone', string>;
export const EMPTY_SENDER: SenderForm = { name: '', email: '', company: '', phone: '' };

/** The sender of a form, or undefined when left empty (the gateway's default is used). */
export function senderOf(f: SenderForm): Sender | undefined {
  const t = { name: f.name.trim(), email: f.email.trim(), company: f.company.trim(), phone: f.phone.trim() };
  if (!t.name && !t.email && !t.company && !t.phone) return undefined;
  const s: Sender = { name: t.name, email: t.email };
  if (t.company) s.company = t.company;
  if (t.phone) s.phone = t.phone;
  return s;
}

const FIELDS: { key: keyof SenderForm; label: string; type: string; autoComplete: string }[] = [
  { key: 'name', label: 'Sender name', type: 'text', autoComplete: 'name' },
  { key: 'email', label: 'Sender e-mail', type: 'email', autoComplete: 'email' },
  { key: 'company', label: 'Sender company', type: 'text', autoComplete: 'organization' },
  { key: 'phone', label: 'Sender phone', type: 'tel', autoComplete: 'tel' },
];

/** Optional sender fields; `errors` keyed `sender.name`, `sender.email`... or `sender`. */
export default function SenderFields({
  value,
  onChange,
  errors = {},
  idPrefix,
}: {
  value: SenderForm;
  onChange: (v: SenderForm) => void;
  errors?: Record<string, string | undefined>;
  idPrefix: string;
}) {
  return (
    <fieldset className="rounded-md border border-slate-200 p-3 dark:border-slate-700">
      <legend className="px-1 text-xs font-medium uppercase tracking-wide text-slate-600 dark:text-slate-400">
        Sender (optional)
      </legend>
      <p className="mb-2 text-xs text-slate-500 dark:text-slate-400">
        Leave empty to use the campaign&apos;s sender or the gateway&apos;s default. Name and e-mail go together.
      </p>
      {errors.sender && <p className="mb-2 text-xs text-rose-600 dark:text-rose-400">{errors.sender}</p>}
      <div className="grid grid-cols-1 gap-2 sm:grid-cols-2">
        {FIELDS.map((f) => {
          const id = `${idPrefix}-sender-${f.key}`;
          const err = errors[`sender.${f.key}`];
          return (
            <div key={f.key}>
              <label htmlFor={id} className="label">
                {f.label}
              </label>
              <input
                id={id}
                data-testid={id}
                type={f.type}
                autoComplete={f.autoComplete}
                className="input"
                value={value[f.key]}
                aria-invalid={err ? true : undefined}
                onChange={(e) => onChange({ ...value, [f.key]: e.target.value })}
              />
              {err && <p className="mt-1 text-xs text-rose-600 dark:text-rose-400">{err}</p>}
            </div>
          );
        })}
      </div>
    </fieldset>
  );
}
