import { lazy, type ComponentType } from 'react';
import { emitStatus } from '../services/api';

/**
 * React.lazy keeps a failed import failed for good; a page whose chunk could not be loaded (the
 * gateway that serves it was down) must load on the next try. `preload` fetches it ahead.
 */
export function lazyPage<P extends object>(load: () => Promise<{ default: ComponentType<P> }>) {
  let loaded: Promise<{ default: ComponentType<P> }> | null = null;
  const attempt = () => {
    if (!loaded) {
      loaded = load().catch((e) => {
        loaded = null;
        current = make();
        emitStatus({ kind: 'unreachable', message: 'the page could not be loaded' });
        throw e;
      });
    }
    return loaded;
  };
  const make = () => lazy(attempt);
  let current = make();
  function Page(props: P) {
    const C = current as unknown as ComponentType<P>;
    return <C {...props} />;
  }
  Page.preload = () => {
    attempt().catch(() => undefined);
  };
  return Page;
}
