import { ApiError, errorMessage } from '../../services/api';
import { cn } from '../../utils/utils';

/** Shows an error: a problem's title and detail, or any other error's message. */
export default function ErrorMessage({
  error,
  className,
  onRetry,
  testId,
}: {
  error: unknown;
  className?: string;
  onRetry?: () => void;
  testId?: string;
}) {
  if (!error) return null;
  const title = error instanceof ApiError ? error.title : 'Error';
  const detail = error instanceof ApiError ? error.detail : errorMessage(error);
  return (
    <div
      role="alert"
      data-testid={testId}
      className={cn(
        'rounded-md border border-rose-300 bg-rose-50 px-3 py-2 text-sm text-rose-800 dark:border-rose-800 dark:bg-rose-950/50 dark:text-rose-200',
        className,
      )}
    >
      <span className="font-semibold">{title}</span>
      {detail && <span>: {detail}</span>}
      {error instanceof ApiError && error.status ? <span className="ml-1 opacity-70">({error.status})</span> : null}
      {onRetry && (
        <button type="button" className="ml-3 underline hover:no-underline" onClick={onRetry}>
          Retry
        </button>
      )}
    </div>
  );
}
