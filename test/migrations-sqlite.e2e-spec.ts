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

  it('should keep the FTS5 and facet-count triggers that keep the search indexes and the counts in step', async () => {
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(process.env.DATABASE_URL!.replace(/^sqlite:/, ''), { readonly: true });
    try {
      const triggers = db
        .prepare(
          `SELECT tbl_name || '.' || name AS name FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ('adapters', 'adapter_tags') ORDER BY tbl_name, name`,
        )
        .all() as { name: string }[];
      expect(triggers.map((t) => t.name)).toEqual([
        'adapter_tags.afc_tags_ad',
        'adapter_tags.afc_tags_ai',
        'adapter_tags.afc_tags_au',
        'adapters.adapters_fts_ad',
        'adapters.adapters_fts_ai',
        'adapters.adapters_fts_au',
        'adapters.adapters_ftsm_ad',
        'adapters.adapters_ftsm_ai',
        'adapters.adapters_ftsm_au',
        'adapters.afc_adapters_ad',
        'adapters.afc_adapters_ai',
        'adapters.afc_adapters_au',
      ]);
    } finally {
      db.close();
    }
  });
});
