import { dirname, isAbsolute, relative } from 'node:path';

/** Folders of one root past which a batch imports the whole root: one scan is cheaper than many small ones. */
export const MAX_FOLDERS_PER_ROOT = 64;

const isInside = (parent: string, child: string): boolean => {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
};

/**
 * The folders to import for a set of touched folders of one root: each folder once, none inside another (imports
 * are recursive), and the root itself once there are more than `maxFolders` of them.
 */
export function foldersToImport(
  rootPath: string,
  touched: Iterable<string>,
  maxFolders = MAX_FOLDERS_PER_ROOT,
): string[] {
  const inRoot = [...new Set(touched)].filter((f) => isInside(rootPath, f)).sort((a, b) => a.length - b.length);
  const kept: string[] = [];
  for (const folder of inRoot) if (!kept.some((k) => isInside(k, folder))) kept.push(folder);
  return kept.length > maxFolders ? [rootPath] : kept.sort();
}

/** The folder itself when it exists, else its nearest existing ancestor inside the root (a deleted folder's parent). */
export async function nearestExisting(
  rootPath: string,
  folder: string,
  isDirectory: (path: string) => Promise<boolean>,
): Promise<string> {
  let current = folder;
  while (current !== rootPath && isInside(rootPath, current)) {
    if (await isDirectory(current)) return current;
    current = dirname(current);
  }
  return rootPath;
}
