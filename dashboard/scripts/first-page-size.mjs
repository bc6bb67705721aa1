// Prints the gzip size of what the first page loads (dist/index.html, its entry script, the
// chunks it preloads and its CSS) and fails above the budget (250 KB, issue 13).
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const BUDGET = 250 * 1024;
const dist = resolve(dirname(fileURLToPath(import.meta.url)), '../dist');
const html = readFileSync(join(dist, 'index.html'), 'utf8');
const refs = new Set(['index.html']);
for (const m of html.matchAll(/(?:src|href)="\/?([^"]+\.(?:js|css))"/g)) refs.add(m[1]);
let total = 0;
const rows = [];
for (const f of refs) {
  const buf = readFileSync(join(dist, f));
  const gz = gzipSync(buf, { level: 9 }).length;
  total += gz;
  rows.push(`  ${f.padEnd(44)} ${(buf.length / 1024).toFixed(1).padStart(8)} KB  gzip ${(gz / 1024).toFixed(1).padStart(7)} KB`);
}
console.log('first page (index.html + its scripts and styles):');
console.log(rows.join('\n'));
console.log(`  total gzip ${(total / 1024).toFixed(1)} KB of a ${BUDGET / 1024} KB budget`);
if (total > BUDGET) {
  console.error(`first page over budget: ${(total / 1024).toFixed(1)} KB gzip > ${BUDGET / 1024} KB`);
  process.exit(1);
}
