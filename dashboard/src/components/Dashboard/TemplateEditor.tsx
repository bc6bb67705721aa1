import { useLayoutEffect, useRef } from 'react';
import { TEMPLATE_VARIABLES } from '../../constants/dashboard';
import { insertAt, placeholder, placeholdersOf } from '../../utils/template';

const KNOWN = new Set<string>(TEMPLATE_VARIABLES);
const MAX = 10000;

/** The message template with chips that insert a variable at the caret (or over the selection). */
export default function TemplateEditor({
  value,
  onChange,
  error,
}: {
  value: string;
  onChange: (v: string) => void;
  error?: string;
}) {
  const ta = useRef<HTMLTextAreaElement>(null);
  const caret = useRef<number | null>(null);

  useLayoutEffect(() => {
    if (caret.current != null && ta.current) {
      ta.current.focus();
      ta.current.setSelectionRange(caret.current, caret.current);
      caret.current = null;
    }
  }, [value]);

  const insert = (name: string) => {
    const el = ta.current;
    const start = el ? el.selectionStart : value.length;
    const end = el ? el.selectionEnd : value.length;
    const r = insertAt(value, start, end, placeholder(name));
    caret.current = r.caret;
    onChange(r.value);
  };

  const used = placeholdersOf(value);
  const unknown = used.filter(
    (p) => p.default == null && !KNOWN.has(p.name) && !p.name.startsWith('sender.') && !p.name.startsWith('company_info.') && !p.name.startsWith('enrich.'),
  );

  return (
    <div>
      <label htmlFor="run-template" className="label">
        Message template *
      </label>
      <div className="mb-2 flex flex-wrap gap-1.5" role="toolbar" aria-label="Insert a variable">
        {TEMPLATE_VARIABLES.map((v) => (
          <button
            key={v}
            type="button"
            data-testid={`run-chip-${v}`}
            onMouseDown={(e) => e.preventDefault() /* keep the caret in the textarea */}
            onClick={() => insert(v)}
            className="rounded-full border border-indigo-200 bg-indigo-50 px-2 py-0.5 font-mono text-xs text-indigo-700 hover:bg-indigo-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 dark:border-indigo-800 dark:bg-indigo-950 dark:text-indigo-300 dark:hover:bg-indigo-900"
            title={`Insert ${placeholder(v)}`}
          >
            {placeholder(v)}
          </button>
        ))}
      </div>
      <textarea
        ref={ta}
        id="run-template"
        data-testid="run-template"
        rows={7}
        maxLength={MAX}
        className="input font-mono"
        placeholder="Hi {{first_name|there}}, a quick note for {{company}}…"
        value={value}
        aria-invalid={error ? true : undefined}
        aria-describedby="run-template-help"
        onChange={(e) => onChange(e.target.value)}
      />
      <div id="run-template-help" className="mt-1 flex flex-wrap justify-between gap-2 text-xs text-slate-500 dark:text-slate-400">
        <span>
          <code>{'{{name|default}}'}</code> gives a default; a variable without a value and without a default fails that
          target.
        </span>
        <span className="tabular-nums">
          {value.length.toLocaleString('en-US')} / {MAX.toLocaleString('en-US')}
        </span>
      </div>
      {unknown.length > 0 && (
        <p className="mt-1 text-xs text-amber-700 dark:text-amber-300">
          Not a prospect field: {unknown.map((p) => p.raw).join(', ')} — it needs a target variable of that name or a
          default.
        </p>
      )}
      {error && (
        <p data-run-problem role="alert" className="mt-1 text-xs text-rose-600 dark:text-rose-400">
          {error}
        </p>
      )}
    </div>
  );
}
