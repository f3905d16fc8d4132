// Library entries that are not regular files, as an attacker with write access to a library folder makes them.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { symlink } from 'node:fs/promises';

/** A named pipe (FIFO) at `path`: opening it for reading waits for a writer unless opened non-blocking. */
export function makeFifo(path: string): void {
  execFileSync('mkfifo', [path]);
}

/** A symlink at `path` to `/dev/zero`: stat says size 0, reads never end. */
export async function linkToDevZero(path: string): Promise<void> {
  await symlink('/dev/zero', path);
}

/**
 * Opens each FIFO for writing after `ms`, from another process, and closes it: a reader stuck in a blocking open
 * (even a synchronous one that holds this process's only thread) is released and reads end of file, so a
 * regression fails its assertions instead of hanging the run. Stop it with `kill()` once done.
 */
export function releaseFifosLater(paths: readonly string[], ms: number): ChildProcess {
  const script = `sleep ${ms / 1000}; for f in "$@"; do timeout 1 sh -c ': > "$1"' _ "$f"; done`;
  const child = spawn('sh', ['-c', script, 'release', ...paths], { stdio: 'ignore' });
  child.unref();
  return child;
}
