import { useEffect, useRef, useState } from 'react';
import { copyText } from '../../utils/clipboard';
import { cn } from '../../utils/utils';

/** One click copies `text` (Clipboard API, else the execCommand fallback); says so for 1.5 s. */
export default function CopyButton({
  text,
  label,
  testId,
  className,
}: {
  text: string;
  /** the accessible name: what is copied */
  label: string;
  testId?: string;
  className?: string;
}) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const timer = useRef<ReturnType<typeof setTimeout>>();
  useEffect(() => () => clearTimeout(timer.current), []);
  const onClick = async () => {
    const ok = await copyText(text);
    setState(ok ? 'copied' : 'failed');
    clearTimeout(timer.current);
    timer.current = setTimeout(() => setState('idle'), 1500);
  };
  return (
    <button
      type="button"
      onClick={onClick}
      data-testid={testId}
      data-copied={state === 'copied' ? 'true' : undefined}
      aria-label={label}
      title={state === 'failed' ? 'Copy failed: select the text and copy it by hand' : label}
      className={cn(
        'btn-secondary px-2 py-0.5 text-xs',
        state === 'copied' && 'border-emerald-400 text-emerald-700 dark:border-emerald-600 dark:text-emerald-300',
        state === 'failed' && 'border-rose-400 text-rose-700 dark:text-rose-300',
        className,
      )}
    >
      <span aria-live="polite">{state === 'copied' ? 'Copied' : state === 'failed' ? 'Failed' : 'Copy'}</span>
    </button>
  );
}
