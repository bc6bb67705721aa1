// A tiny router over history.pushState: no library. Paths: /, /prospects, /campaigns, /run,
// /jobs, /jobs/:id, /handoffs, /workers, /enrichment. The gateway answers index.html for any
// GET outside /api/, so a reload keeps the page.
import { useSyncExternalStore } from 'react';

export type PageKey =
  | 'prospects'
  | 'campaigns'
  | 'run'
  | 'jobs'
  | 'job'
  | 'handoffs'
  | 'workers'
  | 'enrichment'
  | 'not-found';

export interface Route {
  page: PageKey;
  params: Record<string, string>;
  path: string;
  search: string;
}

const NAV_EVENT = 'pa:navigate';

export function matchRoute(pathname: string, search = ''): Route {
  const path = pathname.replace(/\/+$/, '') || '/';
  const seg = path.split('/').filter(Boolean);
  const r = (page: PageKey, params: Record<string, string> = {}): Route => ({ page, params, path, search });
  if (seg.length === 0) return r('prospects');
  if (seg.length === 1) {
    switch (seg[0]) {
      case 'prospects':
      case 'campaigns':
      case 'run':
      case 'jobs':
      case 'handoffs':
      case 'workers':
      case 'enrichment':
        return r(seg[0]);
      default:
        return r('not-found');
    }
  }
  if (seg.length === 2 && seg[0] === 'jobs') {
    let id = seg[1];
    try {
      id = decodeURIComponent(id);
    } catch {
      /* keep as is */
    }
    return r('job', { id });
  }
  return r('not-found');
}

/** Goes to `to` (a path with an optional ?query) without reloading. */
export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  if (to === window.location.pathname + window.location.search) return;
  if (opts.replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  window.dispatchEvent(new Event(NAV_EVENT));
}

function subscribe(cb: () => void): () => void {
  window.addEventListener('popstate', cb);
  window.addEventListener(NAV_EVENT, cb);
  return () => {
    window.removeEventListener('popstate', cb);
    window.removeEventListener(NAV_EVENT, cb);
  };
}

const snapshot = () => window.location.pathname + window.location.search;

export function useRoute(): Route {
  const loc = useSyncExternalStore(subscribe, snapshot, () => '/');
  const q = loc.indexOf('?');
  return matchRoute(q < 0 ? loc : loc.slice(0, q), q < 0 ? '' : loc.slice(q));
}

/** For <a onClick>: plain left clicks navigate in place; others (new tab...) go to the browser. */
export function linkClick(e: React.MouseEvent<HTMLAnchorElement>, to: string): void {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  navigate(to);
}
