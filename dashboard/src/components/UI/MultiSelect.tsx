import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import { cn } from '../../utils/utils';

/**
 * A drop-down of checkboxes: `label: 2 selected`. With `allowCustom`, values not in `options`
 * can be typed in (industries are free text). Escape or a click outside closes it.
 */
export default function MultiSelect({
  label,
  options,
  value,
  onChange,
  testId,
  allowCustom = false,
  customPlaceholder = 'Add a value…',
}: {
  label: string;
  options: readonly string[];
  value: readonly string[];
  onChange: (v: string[]) => void;
  testId?: string;
  allowCustom?: boolean;
  customPlaceholder?: string;
}) {
  const [open, setOpen] = useState(false);
  const [custom, setCustom] = useState('');
  const box = useRef<HTMLDivElement>(null);
  const id = useId();

  useEffect(() => {
    if (!open) return;
    const onDown = (e: MouseEvent) => {
      if (box.current && !box.current.contains(e.target as Node)) setOpen(false);
    };
    const onKey = (e: globalThis.KeyboardEvent) => {
      if (e.key === 'Escape') setOpen(false);
    };
    document.addEventListener('mousedown', onDown);
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('mousedown', onDown);
      document.removeEventListener('keydown', onKey);
    };
  }, [open]);

  const selected = new Set(value.map((v) => v.toLowerCase()));
  // Selected values first among the choices only if they are not offered already.
  const all = [...options];
  for (const v of value) if (!all.some((o) => o.toLowerCase() === v.toLowerCase())) all.push(v);

  const toggle = (v: string) => {
    if (selected.has(v.toLowerCase())) onChange(value.filter((x) => x.toLowerCase() !== v.toLowerCase()));
    else onChange([...value, v]);
  };
  const addCustom = () => {
    const v = custom.trim();
    if (v && !selected.has(v.toLowerCase())) onChange([...value, v]);
    setCustom('');
  };
  const onCustomKey = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      addCustom();
    }
  };

  const summary = value.length === 0 ? 'any' : value.length <= 2 ? value.join(', ') : `${value.length} selected`;

  return (
    <div ref={box} className="relative" data-testid={testId}>
      <button
        type="button"
        className={cn('btn-secondary w-full', value.length > 0 && 'border-indigo-400 dark:border-indigo-500')}
        aria-haspopup="true"
        aria-expanded={open}
        aria-controls={open ? `${id}-panel` : undefined}
        onClick={() => setOpen((o) => !o)}
      >
        <span className="text-slate-500 dark:text-slate-400">{label}:</span>
        <span className="max-w-[12rem] truncate">{summary}</span>
        <span aria-hidden="true" className="ml-auto text-xs">
          ▾
        </span>
      </button>
      {open && (
        <div
          id={`${id}-panel`}
          role="group"
          aria-label={label}
          className="absolute left-0 z-30 mt-1 max-h-80 w-64 overflow-y-auto rounded-md border border-slate-200 bg-white p-2 shadow-lg dark:border-slate-700 dark:bg-slate-800"
        >
          {all.length === 0 && <p className="px-2 py-1 text-sm text-slate-500">No choices yet.</p>}
          <ul>
            {all.map((o) => (
              <li key={o}>
                <label className="flex cursor-pointer items-center gap-2 rounded px-2 py-1 text-sm hover:bg-slate-100 dark:hover:bg-slate-700">
                  <input
                    type="checkbox"
                    className="h-4 w-4 rounded border-slate-300 text-indigo-600 focus:ring-indigo-500"
                    checked={selected.has(o.toLowerCase())}
                    onChange={() => toggle(o)}
                  />
                  <span>{o}</span>
                </label>
              </li>
            ))}
          </ul>
          {allowCustom && (
            <div className="mt-2 flex gap-1 border-t border-slate-200 pt-2 dark:border-slate-700">
              <label htmlFor={`${id}-custom`} className="sr-only">
                {customPlaceholder}
              </label>
              <input
                id={`${id}-custom`}
                className="input py-1"
                placeholder={customPlaceholder}
                value={custom}
                onChange={(e) => setCustom(e.target.value)}
                onKeyDown={onCustomKey}
              />
              <button type="button" className="btn-secondary py-1" onClick={addCustom} disabled={!custom.trim()}>
                Add
              </button>
            </div>
          )}
          {value.length > 0 && (
            <button
              type="button"
              className="mt-2 w-full rounded px-2 py-1 text-left text-xs text-indigo-600 hover:underline dark:text-indigo-400"
              onClick={() => onChange([])}
            >
              Clear
            </button>
          )}
        </div>
      )}
    </div>
  );
}
