import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { appendFile, mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, removeTempDir } from '../../../../test/support/corpus-builder.js';
import { rootIdOf } from '../library/library-roots.js';
import { LibraryWatcher } from './library-watcher.js';
import { foldersToImport } from './touched-folders.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('foldersToImport', () => {
  it('should import each folder once and none inside another', () => {
    expect(foldersToImport('/lib', ['/lib/a/b', '/lib/a', '/lib/c', '/lib/a/b/d', '/lib/c', '/elsewhere/x'])).toEqual([
      '/lib/a',
      '/lib/c',
    ]);
  });

  it('should import the whole root past the folder cap', () => {
    const many = Array.from({ length: 5 }, (_, i) => `/lib/f${i}`);
    expect(foldersToImport('/lib', many, 4)).toEqual(['/lib']);
    expect(foldersToImport('/lib', many.slice(0, 4), 4)).toHaveLength(4);
  });
});

for (const mode of ['events', 'polling'] as const) {
  describe(`${LibraryWatcher.name} (${mode})`, () => {
    let dir: string;
    let root: string;
    let watcher: LibraryWatcher;
    let imports: string[][];
    let live: boolean;

    beforeEach(async () => {
      dir = realpathSync(await makeTempDir('watcher-'));
      root = join(dir, 'root');
      await mkdir(join(root, 'a'), { recursive: true });
      await mkdir(join(root, '.trash'), { recursive: true });
      await writeFile(join(root, 'a', 'one.safetensors'), 'x');
      // A symlink loop must not keep the watcher walking forever.
      await symlink('..', join(root, 'a', 'up'));
      imports = [];
      live = true;
      watcher = new LibraryWatcher({
        roots: [{ id: rootIdOf(root), path: root, realPath: root }],
        pollMs: mode === 'polling' ? 100 : null,
        debounceMs: 150,
        settleMs: 400,
        ignore: ['**/.trash'],
        importFolders: (folders) => {
          imports.push(folders);
          return Promise.resolve();
        },
        hasLiveFiles: () => Promise.resolve(live),
        logger: { log: () => undefined, warn: () => undefined },
      });
      await watcher.start();
    });

    afterEach(async () => {
      await watcher.stop();
      await removeTempDir(dir);
    });

    const importedAfter = async (ms: number): Promise<string[][]> => {
      await sleep(ms);
      return imports;
    };

    it('should import the folder of a new file once it has settled', async () => {
      await writeFile(join(root, 'a', 'two.safetensors'), 'xx');
      expect(await importedAfter(200)).toEqual([]);
      expect(await importedAfter(1200)).toEqual([[join(root, 'a')]]);
    });

    it('should wait while a file grows, however long the pauses between writes within the settle time', async () => {
      const path = join(root, 'a', 'growing.safetensors');
      await writeFile(path, 'x');
      for (let i = 0; i < 5; i++) {
        await sleep(250);
        await appendFile(path, 'more');
      }
      expect(imports).toEqual([]);
      expect(await importedAfter(1200)).toEqual([[join(root, 'a')]]);
    });

    it('should import the parent of a removed folder, and nothing for an ignored one', async () => {
      await writeFile(join(root, '.trash', 'old.safetensors'), 'x');
      await rm(join(root, 'a'), { recursive: true });
      expect(await importedAfter(1500)).toEqual([[root]]);
    });

    it('should not import a root that went missing or is empty while the index holds its files', async () => {
      await rename(root, `${root}.away`);
      await sleep(1000);
      // An empty mount point where the share was: taken for the share still being away, not for every file deleted.
      await mkdir(root);
      expect(await importedAfter(3000)).toEqual([]);
      expect(watcher.backlog.folders).toBe(0);
    });
  });
}
