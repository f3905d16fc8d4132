import { afterAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { tempDir } from './support/test-services.js';

// The dialect is fixed when entity modules load, so the environment is set before anything imports them.
const dir = tempDir('drift-sqlite');
process.env.DATABASE_URL = `sqlite:${join(dir.path, 'drift.sqlite')}`;
delete process.env.REDIS_URL;
const { migrateAndDiff } = await import('./support/drift-check.js');

describe('migrations on SQLite', () => {
  afterAll(() => dir.remove());

  it('should apply every migration and leave no pending schema change', async () => {
    const result = await migrateAndDiff();
    expect(result.applied.length).toBeGreaterThan(0);
    expect(result.tables).toContain('queued_jobs');
    expect(result.pending).toEqual([]);
  });

  it('should keep the FTS5 triggers that keep the search index in step with the adapters table', async () => {
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(process.env.DATABASE_URL!.replace(/^sqlite:/, ''), { readonly: true });
    try {
      const triggers = db
        .prepare(`SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'adapters' ORDER BY name`)
        .all() as { name: string }[];
      expect(triggers.map((t) => t.name)).toEqual(['adapters_fts_ad', 'adapters_fts_ai', 'adapters_fts_au']);
    } finally {
      db.close();
    }
  });
});

