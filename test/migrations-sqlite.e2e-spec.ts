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
});
