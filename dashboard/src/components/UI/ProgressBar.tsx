import { cn } from '../../utils/utils';

/** A determinate progress bar; `value` from 0 to 1 (null: indeterminate). */
export default function ProgressBar({
  value,
  label,
  testId,
  className,
}: {
  value: number | null;
  label: string;
  testId?: string;
  className?: string;
}) {
  const pct = value == null ? null : Math.max(0, Math.min(100, Math.round(value * 1000) / 10));
  return (
    <div
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={pct ?? undefined}
      data-testid={testId}
      data-value={pct ?? ''}
      className={cn('h-2.5 w-full overflow-hidden rounded-full bg-slate-200 dark:bg-slate-700', className)}
    >
      <div
        className={cn('h-full rounded-full bg-indigo-600 transition-[width] duration-200', pct == null && 'w-1/3 animate-pulse')}
        style={pct == null ? undefined : { width: `${pct}%` }}
      />
    </div>
  );
}
