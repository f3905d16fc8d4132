import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdir, readFile, rename, symlink, writeFile } from 'node:fs/promises';
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, removeTempDir } from '../../../../test/support/corpus-builder.js';
import { makeFifo } from '../../../../test/support/hostile-files.js';
import { openRegularFile } from '../reading/read-handle.js';
import { openInsideRoot, type OpenInsideFs } from './library-roots.js';
import { realpath, stat } from 'node:fs/promises';

let dir: string;
let root: string;
let outside: string;

beforeAll(async () => {
  dir = realpathSync(await makeTempDir('library-roots-'));
  root = join(dir, 'root');
  outside = join(dir, 'outside');
  await mkdir(join(root, 'styles'), { recursive: true });
  await mkdir(outside);
  await writeFile(join(root, 'styles', 'ink.png'), 'inside');
  await writeFile(join(outside, 'ink.png'), 'SECRET');
});
afterAll(async () => {
  await removeTempDir(dir);
});

async function contentOf(opened: Awaited<ReturnType<typeof openInsideRoot>>): Promise<string | null> {
  if (!opened) return null;
  try {
    return (await opened.fh.readFile()).toString();
  } finally {
    await opened.fh.close();
  }
}

/** Swaps `styles` for a symlink to the outside folder, or back. */
async function swap(toOutside: boolean): Promise<void> {
  if (toOutside) {
    await rename(join(root, 'styles'), join(root, 'styles.real'));
    await symlink(outside, join(root, 'styles'));
  } else {
    await rename(join(root, 'styles'), join(root, 'styles.link'));
    await rename(join(root, 'styles.real'), join(root, 'styles'));
    await rename(join(root, 'styles.link'), join(dir, `old-link-${Date.now()}`));
  }
}

/** Node's calls, with `around` run just before or just after the open. */
const fsWith = (when: 'before-open' | 'after-open', around: () => Promise<void>): OpenInsideFs => ({
  open: async (path) => {
    if (when === 'before-open') await around();
    const opened = await openRegularFile(path);
    if (when === 'after-open') await around();
    return opened;
  },
  realpath,
  stat,
});

describe(openInsideRoot.name, () => {
  it('should open a file inside the root, through symlinks that stay inside', async () => {
    expect(await contentOf(await openInsideRoot(root, 'styles/ink.png'))).toBe('inside');
    await symlink(join(root, 'styles', 'ink.png'), join(root, 'alias.png'));
    expect(await contentOf(await openInsideRoot(root, 'alias.png'))).toBe('inside');
  });

  it('should refuse `..`, a symlink leading outside, a FIFO and a missing file', async () => {
    expect(await openInsideRoot(root, '../outside/ink.png')).toBeNull();
    await symlink(join(outside, 'ink.png'), join(root, 'escape.png'));
    expect(await openInsideRoot(root, 'escape.png')).toBeNull();
    makeFifo(join(root, 'pipe.png'));
    expect(await openInsideRoot(root, 'pipe.png')).toBeNull();
    expect(await openInsideRoot(root, 'nothing.png')).toBeNull();
  });

  it('should not serve the outside file when the folder is swapped for a symlink just before the open', async () => {
    // The old route checked the real path first and opened the path again: this is the moment it lost the race.
    const opened = await openInsideRoot(
      root,
      'styles/ink.png',
      fsWith('before-open', () => swap(true)),
    );
    await swap(false);
    expect(opened).toBeNull();
  });

  it('should not serve the outside file when the folder is swapped back right after the open', async () => {
    await swap(true);
    // Opened through the symlink (outside), then the real folder is back: the re-resolved path names another file.
    const opened = await openInsideRoot(
      root,
      'styles/ink.png',
      fsWith('after-open', () => swap(false)),
    );
    expect(await contentOf(opened)).toBeNull();
    expect((await readFile(join(root, 'styles', 'ink.png'))).toString()).toBe('inside');
  });
});
