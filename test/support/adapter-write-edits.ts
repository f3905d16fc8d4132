import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { openConfiguredDataSource } from './configured-data-source.js';
import { makeTempDir, removeTempDir, writeAdapter } from './corpus-builder.js';

/**
 * An import or a hash run reads a row, then writes the row it built from that read seconds later; a user's edit saved
 * in between must survive the write. Run by one spec file a database, because the entities' column types are fixed
 * by the configuration when they load (the file sets `DATABASE_URL` or `DATA_DIR` first).
 */
export function describeWriteKeepsEdits(dialect: string): void {
  describe(`a batch written from an older read of its row, on ${dialect}`, () => {
    let tmp: string;
    let ds: DataSource;
    let adapters: import('../../libs/adapters/src/library/adapter.repository.js').AdapterRepository;
    let queries: import('../../libs/adapters/src/library/adapter-query.service.js').AdapterQueryService;
    let rowFor: (
      existing: import('../../libs/adapters/src/library/adapter.repository.js').AdapterSnapshot | undefined,
    ) => import('../../libs/adapters/src/library/adapter.entity.js').AdapterEntity;

    beforeAll(async () => {
      tmp = await makeTempDir('write-edits-');
      const { loadConfig } = await import('@app/core');
      const { AdapterRepository } = await import('../../libs/adapters/src/library/adapter.repository.js');
      const { AdapterQueryRepository } = await import('../../libs/adapters/src/library/adapter-query.repository.js');
      const { AdapterQueryService } = await import('../../libs/adapters/src/library/adapter-query.service.js');
      const { LibraryRoots } = await import('../../libs/adapters/src/library/library-roots.js');
      const { inspectAdapterFile } = await import('../../libs/adapters/src/reading/inspect-adapter.js');
      const { buildAdapterRow } = await import('../../libs/adapters/src/import-runs/adapter-row.js');
      const config = loadConfig();
      ds = await openConfiguredDataSource();
      adapters = new AdapterRepository(ds);
      queries = new AdapterQueryService(new AdapterQueryRepository(ds), adapters, new LibraryRoots(config));

      const rel = 'ink/ink.safetensors';
      await writeAdapter(tmp, {
        relPath: rel,
        safetensors: { seed: 'ink' },
        loraManager: { modelName: 'Ink Style', baseModel: 'SDXL 1.0', tags: ['from-file'] },
      });
      const { facts } = await inspectAdapterFile({ absPath: join(tmp, rel) }, { hash: false });
      const file = { relPath: rel, name: 'ink.safetensors', size: 100, mtimeMs: 1 };
      const root = { id: 'root-1', path: tmp, realPath: tmp };
      rowFor = (existing) => buildAdapterRow(facts, file, root, [], existing, new Date());
    });

    afterAll(async () => {
      await ds?.destroy();
      await removeTempDir(tmp);
    });

    it('should keep the edit saved between the read and the write, in the row, its tags and its search', async () => {
      const first = rowFor(undefined);
      await adapters.writeBatch([first]);
      // The importer reads the row (no edit yet) and builds its new version from that read…
      const [read] = await adapters.snapshotsByIds([first.id]);
      expect(read.userEdited).toEqual([]);
      const rebuilt = rowFor(read);
      // …meanwhile the user edits it…
      await queries.patch(first.id, { name: 'My Ink', tags: ['mine'], favorite: true, nsfwOverride: 4 });
      // …and then the importer's batch is written.
      await adapters.writeBatch([rebuilt]);

      const stored = await queries.get(first.id);
      expect(stored).toMatchObject({
        name: 'My Ink',
        sortName: 'my ink',
        tags: ['mine'],
        favorite: true,
        nsfwOverride: 4,
        nsfwMax: 4,
        baseModel: 'SDXL 1.0',
      });
      expect([...stored.userEdited].sort()).toEqual(['favorite', 'name', 'nsfwOverride', 'tags']);
      expect(stored.searchText).toContain('My Ink');
      expect(stored.searchText).not.toContain('from-file');
      const tagRows = await ds.query<{ tag: string }[]>(
        dialect === 'postgres'
          ? 'SELECT tag FROM adapter_tags WHERE adapter_id = $1'
          : 'SELECT tag FROM adapter_tags WHERE adapter_id = ?',
        [first.id],
      );
      expect(tagRows.map((r) => r.tag)).toEqual(['mine']);
      // The list finds it by the user's name and tag, not by the file's.
      const byName = await queries.list({ q: 'my ink' });
      expect(byName.items.map((a) => a.id)).toEqual([first.id]);
      const byFileTag = await queries.list({ tags: ['from-file'] });
      expect(byFileTag.total).toBe(0);
    });

    it('should write a row read after the edit exactly as built', async () => {
      const [read] = await adapters.snapshotsByIds((await queries.list({ q: 'my ink' })).items.map((a) => a.id));
      const rebuilt = rowFor(read);
      await adapters.writeBatch([rebuilt]);
      const stored = await queries.get(rebuilt.id);
      expect(stored).toMatchObject({ name: rebuilt.name, tags: rebuilt.tags, searchText: rebuilt.searchText });
    });
  });
}
