import { tempDir } from './support/test-services.js';

// SQLite: the configuration's database is a file of this test's own (see `describeJobStatements`).
const dir = tempDir('job-sql-sqlite');
process.env.DATA_DIR = dir.path;
delete process.env.DATABASE_URL;
const { describeJobStatements } = await import('./support/job-row-sql.js');

describeJobStatements('sqlite');
