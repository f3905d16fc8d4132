import { copyFileSync, existsSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { errorMessage, InvalidInputError } from '@app/core';

/** Refuses a file that is not a sound SQLite database of this product: `PRAGMA integrity_check` and the migrations table. */
export function checkSqliteBackup(path: string): void {
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch (error) {
    throw new InvalidInputError(
      'backup_corrupt',
      `${basename(path)} cannot be opened as SQLite: ${errorMessage(error)}`,
    );
  }
  try {
    const rows = db.pragma('integrity_check') as { integrity_check: string }[];
    const verdict = rows.map((r) => r.integrity_check).join('; ');
    if (verdict !== 'ok')
      throw new InvalidInputError('backup_corrupt', `${basename(path)} fails its integrity check: ${verdict}`);
    const table = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'migrations'").get();
    if (!table)
      throw new InvalidInputError(
        'backup_corrupt',
        `${basename(path)} is not a LoRA Manager database (no migrations table)`,
      );
  } catch (error) {
    if (error instanceof InvalidInputError) throw error;
    throw new InvalidInputError(
      'backup_corrupt',
      `${basename(path)} is not a sound SQLite database: ${errorMessage(error)}`,
    );
  } finally {
    db.close();
  }
}

/**
 * Puts a SQLite backup in place of the database (the service stopped): the backup is checked first, the current
 * database is kept beside it as `<name>.before-restore-<time>`, and the new file appears by a rename.
 */
export function restoreSqliteBackup(backup: string, databasePath: string, now = new Date()): { keptAs: string | null } {
  if (!existsSync(backup)) throw new InvalidInputError('backup_not_found', `${backup} does not exist`);
  checkSqliteBackup(backup);
  const folder = dirname(databasePath);
  const temp = join(folder, `.${basename(databasePath)}.restoring`);
  copyFileSync(backup, temp);
  let keptAs: string | null = null;
  if (existsSync(databasePath)) {
    keptAs = `${databasePath}.before-restore-${now.toISOString().replace(/[-:.]/g, '')}`;
    // The current database with its WAL folded in, so the kept copy is whole on its own.
    const current = new Database(databasePath);
    try {
      current.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      current.close();
    }
    renameSync(databasePath, keptAs);
  }
  for (const suffix of ['-wal', '-shm']) rmSync(`${databasePath}${suffix}`, { force: true });
  renameSync(temp, databasePath);
  return { keptAs };
}
