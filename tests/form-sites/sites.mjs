// Every site of the corpus, in the manifest's order (site i listens on --base-port + i).
import { WP_SITES } from './sites_wp.mjs';
import { APP_SITES } from './sites_apps.mjs';
import { MISC_SITES, benchSite } from './sites_misc.mjs';

export const SITES = [...WP_SITES, ...APP_SITES, ...MISC_SITES];
export { benchSite };

const seen = new Set();
for (const s of SITES) {
  if (seen.has(s.name)) throw new Error(`two sites named ${s.name}`);
  seen.add(s.name);
}

// The manifest (sites.json) made from the definitions.
export function manifest(sites = SITES) {
  return sites.map((s) => ({ name: s.name, path: s.path || '/', contact: s.contact ?? null,
                             charset: s.charset || 'utf-8', builder: s.builder,
                             expect: s.expect, notes: s.notes }));
}
