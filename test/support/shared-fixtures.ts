import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

// The shared fixtures (`../shared/fixtures` beside the checkout) are read in place, never copied into the
// repository. A clean clone may sit anywhere, so look beside the repository root, beside the working
// directory, then at the machine's well-known place.
const REPO_ROOT = resolve(import.meta.dirname, '..', '..');

export const REAL_SAMPLES_DIR: string | undefined = [
  resolve(REPO_ROOT, '..', 'shared', 'fixtures', 'real-lora-samples'),
  resolve(process.cwd(), '..', 'shared', 'fixtures', 'real-lora-samples'),
  '/work/shared/fixtures/real-lora-samples',
].find((dir) => existsSync(join(dir, 'sources.json')));
