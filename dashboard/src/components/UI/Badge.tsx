import { STATUS_COLORS } from '../../constants/dashboard';
import { cn } from '../../utils/utils';

/** A coloured pill for a prospect status, task state or job status. */
export default function Badge({ value, className }: { value: string | null | undefined; className?: string }) {
  const v = value ?? '—';
  return (
    <span
      className={cn(
        'inline-flex items-center rounded-full px-2 py-0.5 text-xs font-medium',
        STATUS_COLORS[v] ?? 'bg-slate-100 text-slate-700 dark:bg-slate-800 dark:text-slate-300',
        className,
      )}
    >
      {v.replace(/_/g, ' ')}
    </span>
  );
}
