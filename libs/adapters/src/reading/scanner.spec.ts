import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import {
  EDGE_CASES,
  buildCorpus,
  buildEdgeCaseCorpus,
  makeTempDir,
  removeTempDir,
  writeSafetensors,
  type CorpusManifest,
} from '../../../../test/support/corpus-builder.js';
import { ScanErrorCode, scanRoot, type ScanError, type ScanItem, type ScannedFile } from './scanner.js';

let tmp: string;
let root: string;
let manifest: CorpusManifest;

beforeAll(async () => {
  tmp = await makeTempDir('scan-');
  root = join(tmp, 'library');
  manifest = await buildEdgeCaseCorpus(root);
});
afterAll(async () => {
  await removeTempDir(tmp);
});

async function collect(it: AsyncIterable<ScanItem>): Promise<{ files: ScannedFile[]; errors: ScanError[] }> {
  const files: ScannedFile[] = [];
  const errors: ScanError[] = [];
  for await (const item of it) {
    if (item.type === 'file') files.push(item);
    else errors.push(item);
  }
  return { files, errors };
}

describe(scanRoot.name, () => {
  it('should find every .safetensors file (any case of the extension), once, with posix relative paths', async () => {
    const { files, errors } = await collect(scanRoot(root));
    const rel = files.map((f) => f.relPath);
    expect(errors).toEqual([]);
    for (const p of [
      EDGE_CASES.good,
      EDGE_CASES.truncatedHeader,
      EDGE_CASES.truncatedData,
      EDGE_CASES.zeroByte,
      EDGE_CASES.notJsonHeader,
      EDGE_CASES.duplicateA,
      EDGE_CASES.duplicateB,
      EDGE_CASES.sameStemA,
      EDGE_CASES.sameStemB,
      EDGE_CASES.dots,
      EDGE_CASES.unicode,
      EDGE_CASES.spaces,
      EDGE_CASES.upperExt,
    ]) {
      expect(rel).toContain(p);
    }
    expect(rel.some((p) => p.endsWith('.ckpt') || p.endsWith('.txt') || p.endsWith('.civitai.info'))).toBe(false);
    // `linked` → `good` is the same directory: entered once, under its real path.
    expect(rel.filter((p) => p.endsWith('my_style_v1.safetensors'))).toEqual([EDGE_CASES.good]);
    expect(new Set(rel).size).toBe(rel.length);
  });

  it('should give size, mtime and inode, and the directory listing shared by the files of one directory', async () => {
    const { files } = await collect(scanRoot(root));
    const good = files.find((f) => f.relPath === EDGE_CASES.good)!;
    const adapter = manifest.adapters.find((a) => a.relPath === EDGE_CASES.good)!;
    expect(good).toMatchObject({
      name: 'my_style_v1.safetensors',
      size: adapter.size,
      absPath: join(root, EDGE_CASES.good),
      viaSymlink: false,
    });
    expect(good.mtimeMs).toBeGreaterThan(0);
    expect(good.ino).toBeGreaterThan(0);
    expect([...good.dirListing].sort()).toEqual([
      'my_style_v1.civitai.info',
      'my_style_v1.preview.png',
      'my_style_v1.safetensors',
    ]);
    const names = files.filter((f) => f.relPath.startsWith('names/'));
    expect(names.length).toBe(4);
    expect(new Set(names.map((f) => f.dirListing)).size).toBe(1);
    expect(names[0].dirListing).toEqual(expect.arrayContaining(['readme.txt', 'old_model.ckpt']));
    // Duplicate content in two places: both yielded, same size.
    const dups = files.filter((f) => f.relPath.startsWith('dup/'));
    expect(dups).toHaveLength(2);
    expect(dups[0].size).toBe(dups[1].size);
  });

  it('should not loop on a symlink to an ancestor, and not list symlinked directories as files', async () => {
    const { files } = await collect(scanRoot(root));
    expect(files.every((f) => !f.relPath.startsWith('loop/back/'))).toBe(true);
    const loopDir = files.find((f) => f.relPath.startsWith('loop/'));
    expect(loopDir).toBeUndefined();
  });

  it('should honour ignore globs relative to the root', async () => {
    const { files } = await collect(
      scanRoot(root, { ignore: ['broken/**', '**/*.SafeTensors', 'names/with spaces*'] }),
    );
    const rel = files.map((f) => f.relPath);
    expect(rel.some((p) => p.startsWith('broken/'))).toBe(false);
    expect(rel).not.toContain(EDGE_CASES.upperExt);
    expect(rel).not.toContain(EDGE_CASES.spaces);
    expect(rel).toContain(EDGE_CASES.dots);
  });

  it('should match ignore globs against the root when it scans a folder inside it', async () => {
    const { files } = await collect(
      scanRoot(join(root, 'stems'), { base: 'stems', ignore: ['stems/x/**', 'x/**', 'y/**/*'] }),
    );
    // `stems/x/**` names the folder from the root; `x/**` and `y/**/*` would only match from the scanned folder.
    expect(files.map((f) => f.relPath)).toEqual(['y/same.safetensors']);
  });

  it('should follow a symlinked directory and file, or skip them when followSymlinks is false', async () => {
    const base = join(tmp, 'links');
    const outside = join(tmp, 'outside');
    await writeSafetensors(join(outside, 'shared', 'ext.safetensors'), { seed: 'ext' });
    await writeSafetensors(join(base, 'real', 'a.safetensors'), { seed: 'a' });
    await buildCorpus(base, {
      symlinks: [
        { relPath: 'nas', target: join(outside, 'shared') },
        { relPath: 'real/alias.safetensors', target: 'a.safetensors' },
        { relPath: 'real/dangling.safetensors', target: 'missing.safetensors' },
        { relPath: 'real/dangling.json', target: 'missing.json' },
        { relPath: 'self', target: 'self' },
      ],
    });
    const followed = await collect(scanRoot(base));
    // Real directories first, then those reached through a symlink.
    expect(followed.files.map((f) => [f.relPath, f.viaSymlink])).toEqual([
      ['real/a.safetensors', false],
      ['real/alias.safetensors', true],
      ['nas/ext.safetensors', true],
    ]);
    // Directory by directory: the root's `self` loop first, then `real/`. A dangling `.json` link is no LoRA: ignored.
    expect(followed.errors.map((e) => [e.relPath, e.code, e.errno])).toEqual([
      ['self', ScanErrorCode.StatFailed, 'ELOOP'],
      ['real/dangling.safetensors', ScanErrorCode.StatFailed, 'ENOENT'],
    ]);

    const confined = await collect(scanRoot(base, { confineToRoot: true }));
    expect(confined.files.map((f) => f.relPath)).toEqual(['real/a.safetensors', 'real/alias.safetensors']);
    expect(confined.errors.map((e) => e.code)).toContain(ScanErrorCode.OutsideRoot);

    const notFollowed = await collect(scanRoot(base, { followSymlinks: false }));
    expect(notFollowed.files.map((f) => f.relPath)).toEqual(['real/a.safetensors']);
    expect(notFollowed.errors).toEqual([]);
  });

  it('should survive a symlink cycle between two directories', async () => {
    const base = join(tmp, 'cycle');
    await mkdir(join(base, 'a'), { recursive: true });
    await mkdir(join(base, 'b'), { recursive: true });
    await writeSafetensors(join(base, 'a', 'x.safetensors'));
    await symlink(join(base, 'b'), join(base, 'a', 'to_b'));
    await symlink(join(base, 'a'), join(base, 'b', 'to_a'));
    const { files, errors } = await collect(scanRoot(base));
    expect(files.map((f) => f.relPath)).toEqual(['a/x.safetensors']);
    expect(errors).toEqual([]);
  });

  it('should list a directory under its real path even when a symlink to it is met first', async () => {
    const base = join(tmp, 'realfirst');
    await writeSafetensors(join(base, 'z', 'deep', 'x.safetensors'));
    await mkdir(join(base, 'a'), { recursive: true });
    await symlink(join(base, 'z'), join(base, 'a', 'link_to_z'));
    const { files } = await collect(scanRoot(base));
    expect(files.map((f) => [f.relPath, f.viaSymlink])).toEqual([['z/deep/x.safetensors', false]]);
  });

  it('should report an unreadable directory as an item and carry on', async () => {
    const failing = join(root, 'names');
    const { files, errors } = await collect(
      scanRoot(root, {
        fs: {
          readdir: async (path, options) => {
            if (path === failing)
              throw Object.assign(new Error(`EACCES: permission denied, scandir '${path}'`), { code: 'EACCES' });
            const { readdir } = await import('node:fs/promises');
            return readdir(path, options);
          },
        },
      }),
    );
    expect(errors).toEqual([
      expect.objectContaining({ type: 'error', relPath: 'names', code: ScanErrorCode.UnreadableDir, errno: 'EACCES' }),
    ]);
    expect(files.map((f) => f.relPath)).toContain(EDGE_CASES.good);
  });

  it('should report a missing root as one error item', async () => {
    const { files, errors } = await collect(scanRoot(join(tmp, 'nope')));
    expect(files).toEqual([]);
    expect(errors).toEqual([expect.objectContaining({ code: ScanErrorCode.BadRoot, errno: 'ENOENT' })]);
  });
});
