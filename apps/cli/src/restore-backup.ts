import { resolve } from 'node:path';
import { restoreSqliteBackup } from '@app/archive';
import { type AppConfig, DatabaseType, errorMessage } from '@app/core';

const USAGE =
  'Usage: npm run cli -- restore-backup <file.sqlite>\n' +
  'Stop the API (and any CLI using the database) first. The current database is kept beside it as\n' +
  '<database>.before-restore-<time>; start the API again afterwards.\n' +
  'PostgreSQL backups are archives: restore them into a migrated database with `import-archive <file.zip> --policy take-theirs`.\n';

/** `restore-backup` on SQLite: checks the backup, keeps the current database aside and puts the backup in its place. */
export function restoreBackup(config: AppConfig, args: string[]): number {
  if (config.database.type !== DatabaseType.Sqlite) return 1;
  const file = args.find((a) => !a.startsWith('-'));
  if (!file || args.includes('--help')) {
    process.stderr.write(USAGE);
    return file ? 0 : 1;
  }
  try {
    const { keptAs } = restoreSqliteBackup(resolve(file), config.database.path);
    process.stdout.write(
      `Restored ${resolve(file)} to ${config.database.path}\n` +
        (keptAs ? `The database it replaced is kept as ${keptAs}\n` : '') +
        'Start the API again; it applies any migrations the backup is missing.\n',
    );
    return 0;
  } catch (error) {
    process.stderr.write(`Restore refused: ${errorMessage(error)}\n${USAGE}`);
    return 1;
  }
}
