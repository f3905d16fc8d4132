import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase } from './support/test-services.js';

const db = await createTestDatabase('drift');
process.env.DATABASE_URL = db.url;
delete process.env.REDIS_URL;
const { migrateAndDiff } = await import('./support/drift-check.js');

describe('migrations on PostgreSQL', () => {
  beforeAll(() => undefined);
  afterAll(() => db.drop());

  it('should apply every migration and leave no pending schema change', async () => {
    const result = await migrateAndDiff();
    expect(result.applied.length).toBeGreaterThan(0);
    expect(result.tables.map((t) => t.replace(/^public\./, ''))).toContain('queued_jobs');
    expect(result.pending).toEqual([]);
  });
});
