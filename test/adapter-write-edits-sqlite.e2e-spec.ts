import { tempDir } from './support/test-services.js';

// SQLite: the configuration's database is a file of this test's own (see `describeWriteKeepsEdits`).
const dir = tempDir('write-edits-sqlite');
process.env.DATA_DIR = dir.path;
delete process.env.DATABASE_URL;
const { describeWriteKeepsEdits } = await import('./support/adapter-write-edits.js');

describeWriteKeepsEdits('sqlite');
