import { afterAll } from '@jest/globals';
import { createTestDatabase } from './support/test-services.js';

// PostgreSQL: a database of this test's own (see `describeJobStatements`).
const db = await createTestDatabase('job_sql');
process.env.DATABASE_URL = db.url;
const { describeJobStatements } = await import('./support/job-row-sql.js');

describeJobStatements('postgres');
afterAll(() => db.drop());
