import { getApiKey, type ApiStatus } from '../../services/api';

/** The banner for "API unreachable" and "key refused"; nothing while the API answers. */
export default function ApiBanner({ status, onRetry }: { status: ApiStatus; onRetry: () => void }) {
  if (status.kind !== 'unreachable' && status.kind !== 'unauthorized') return null;
  const unreachable = status.kind === 'unreachable';
  const hasKey = !!getApiKey();
  return (
    <div
      role="alert"
      data-testid="api-banner"
      data-kind={status.kind}
      className={
        unreachable
          ? 'flex flex-wrap items-center gap-3 border-b border-amber-300 bg-amber-50 px-4 py-2 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950/60 dark:text-amber-200'
          : 'flex flex-wrap items-center gap-3 border-b border-rose-300 bg-rose-50 px-4 py-2 text-sm text-rose-900 dark:border-rose-800 dark:bg-rose-950/60 dark:text-rose-200'
      }
    >
      {unreachable ? (
        <span>
          <strong>API unreachable.</strong> The gateway did not answer ({status.message}). Check that it is running.
        </span>
      ) : hasKey ? (
        <span>
          <strong>The API refused the key.</strong> Enter a valid API key above and save it.
        </span>
      ) : (
        <span>
          <strong>The API needs a key.</strong> Enter your API key above and save it.
        </span>
      )}
      <button type="button" className="btn-secondary py-0.5" onClick={onRetry}>
        Retry
      </button>
    </div>
  );
}
