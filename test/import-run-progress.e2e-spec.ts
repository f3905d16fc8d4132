import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { AppProcess, entryOf } from './support/app-process.js';
import { cliDatabase } from './support/cli-library.js';
import { generateCorpus } from './support/corpus-builder.js';
import { queryRows } from './support/db-inspect.js';
import { tempDir } from './support/test-services.js';

const FILES = 4000;
const dir = tempDir('run-progress');
const root = join(dir.path, 'loras');

beforeAll(async () => {
  await generateCorpus(root, FILES);
}, 120_000);

afterAll(() => dir.remove());

interface RunRow {
  status: string;
  counts: string | { seen: number; added: number };
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`an import run's state while it runs on ${dialect}`, () => {
    let drop: (() => Promise<void>) | undefined;

    afterAll(async () => {
      await drop?.();
    });

    it('should show growing counts on the running run, and the final ones once it is done', async () => {
      const db = await cliDatabase(dialect, 'run_progress', join(dir.path, `data-${dialect}`));
      drop = db.drop;
      const cli = new AppProcess('cli', { ...db.env, LORA_ROOTS: root }).start(['import', '--hash', 'full']);
      const exited = cli.exitCode(120_000);
      let done = false;
      void exited.then(() => (done = true));
      // What `GET /imports/:id` would answer, read every 20 ms until the CLI exits.
      const seen: { status: string; added: number }[] = [];
      while (!done) {
        const rows = await queryRows<RunRow>(db.dbUrl, 'SELECT status, counts FROM import_runs').catch(() => []);
        for (const r of rows) {
          const counts = typeof r.counts === 'string' ? (JSON.parse(r.counts) as { added: number }) : r.counts;
          seen.push({ status: r.status, added: counts.added });
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(await exited).toBe(0);

      const running = seen.filter((s) => s.status === 'running').map((s) => s.added);
      // Counts were saved while the run went on: some between none and all, and never going back.
      expect(running.some((added) => added > 0 && added < FILES)).toBe(true);
      expect(running).toEqual([...running].sort((a, b) => a - b));
      const final = await queryRows<RunRow>(db.dbUrl, 'SELECT status, counts FROM import_runs');
      expect(final).toHaveLength(1);
      const counts = typeof final[0].counts === 'string' ? JSON.parse(final[0].counts) : final[0].counts;
      expect({ status: final[0].status, counts }).toMatchObject({
        status: 'completed',
        counts: { seen: FILES, added: FILES },
      });
    }, 150_000);
  });
}

describe('the CLI on a terminal', () => {
  it('should draw a progress bar, then print the summary table', async () => {
    // `script` gives the CLI a pseudo-terminal, as a user's shell would.
    const data = join(dir.path, 'data-tty');
    const command = `${process.execPath} ${entryOf('cli')} import`;
    const { stdout } = await promisify(execFile)('script', ['-qec', command, '/dev/null'], {
      env: { PATH: process.env.PATH ?? '', DATA_DIR: data, LORA_ROOTS: root, LOG_LEVEL: 'warn', TERM: 'xterm' },
      maxBuffer: 64 * 1024 * 1024,
      timeout: 120_000,
    });
    // cli-progress redraws one line in place (ANSI): a bar of =/- with the file count, then the final state.
    expect(stdout).toMatch(new RegExp(`\\x1b\\[1Greading \\[=*-+\\] \\d+/${FILES} files`));
    expect(stdout).toContain(`[${'='.repeat(40)}] ${FILES}/${FILES} files`);
    expect(stdout).toMatch(/Import finished in [\d.]+ s/);
    expect(stdout).toMatch(new RegExp(`added +${FILES}`));
  }, 150_000);
});
