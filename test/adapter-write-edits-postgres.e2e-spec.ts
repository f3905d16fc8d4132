import { afterAll } from '@jest/globals';
import { createTestDatabase } from './support/test-services.js';

// PostgreSQL: a database of this test's own (see `describeWriteKeepsEdits`).
const db = await createTestDatabase('write_edits');
process.env.DATABASE_URL = db.url;
const { describeWriteKeepsEdits } = await import('./support/adapter-write-edits.js');

describeWriteKeepsEdits('postgres');
afterAll(() => db.drop());
