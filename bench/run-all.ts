// npm run bench — every benchmark in turn, each in its own process (they set their own environment).
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const benches = [
  'import',
  'import-growth',
  'query',
  'api',
  'generation',
  'scale',
  'hostile-values',
  'previews',
  'hash-job',
  'watch',
  'civitai',
  'archive',
  'thumbnails',
  'download',
  'results-export',
  'recommendations',
  'analytics',
].filter((b) => only.length === 0 || only.includes(b));
let failed = 0;
for (const bench of benches) {
  process.stdout.write(`\n# bench:${bench}\n`);
  const result = spawnSync(process.execPath, [join(here, `${bench}.js`)], { stdio: 'inherit', env: process.env });
  if (result.status !== 0) {
    failed++;
    process.stdout.write(`bench:${bench} exited with ${result.status ?? result.signal}\n`);
  }
}
process.exitCode = failed > 0 ? 1 : 0;
