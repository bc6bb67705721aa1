import { Component, type ErrorInfo, type ReactNode } from 'react';
import { errorMessage } from '../../services/api';

/** Catches a page that failed to render (or whose code could not be loaded). */
export default class ErrorBoundary extends Component<
  { children: ReactNode; onRetry: () => void },
  { error: unknown }
> {
  override state: { error: unknown } = { error: null };

  static getDerivedStateFromError(error: unknown) {
    return { error };
  }

  override componentDidCatch(error: unknown, info: ErrorInfo) {
    console.error('page error', error, info.componentStack);
  }

  override render() {
    if (this.state.error == null) return this.props.children;
    return (
      <div role="alert" className="card border-rose-300 dark:border-rose-800">
        <h2 className="font-semibold text-rose-700 dark:text-rose-300">This page could not be shown</h2>
        <p className="mt-1 text-sm text-slate-600 dark:text-slate-300">{errorMessage(this.state.error)}</p>
        <button type="button" className="btn-secondary mt-3" onClick={this.props.onRetry}>
          Retry
        </button>
      </div>
    );
  }
}
