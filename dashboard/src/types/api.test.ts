// src/types/api.d.ts is generated from ../docs/openapi.json by `npm run gen:api`. This test
// generates it again in memory and fails when the committed file is stale.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');

describe('src/types/api.d.ts', () => {
  it('matches `npm run gen:api` on docs/openapi.json (run it when this fails)', () => {
    const cli = resolve(root, 'node_modules/openapi-typescript/bin/cli.js');
    const fresh = execFileSync(process.execPath, [cli, '../docs/openapi.json'], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    });
    const committed = readFileSync(resolve(here, 'api.d.ts'), 'utf8');
    expect(fresh.length).toBeGreaterThan(1000);
    expect(committed === fresh, 'src/types/api.d.ts is stale: run `npm run gen:api` and commit it').toBe(true);
  });
});
