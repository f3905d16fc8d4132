import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSeedDb, type SeedAdapter, type SeedDb, seedAdapters } from './support/adapter-seed.js';
import { AppProcess, freePort, runCli } from './support/app-process.js';
import { tinyPng, tinyWebp } from './support/images.js';
import { createDialectDatabase, tempDir } from './support/test-services.js';

const json = { 'content-type': 'application/json' };
const DUP = 'd'.repeat(64);
const day = (n: number): Date => new Date(Date.UTC(2025, 0, n));

// Response bodies are checked field by field with expect(); a loose type keeps the assertions readable.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type JsonBody = any;

interface Item {
  id: string;
  name: string;
  [key: string]: unknown;
}
interface Page {
  items: Item[];
  total: number;
  page: number;
  limit: number;
  pages: number;
  sort: string;
  order: string;
  facets?: { baseModel?: { value: string; count: number }[]; tags?: { value: string; count: number }[] };
}

/** The fixture library: every filter and sort has something to tell apart. */
function fixture(rootId: string): (SeedAdapter & { key: string })[] {
  return [
    {
      key: 'pixel',
      name: 'Pixel Art Style',
      relativePath: 'styles/pixel_art.safetensors',
      baseModel: 'SDXL 1.0',
      tags: ['style', 'Pixel Art'],
      trainedWords: ['pixelart'],
      creator: 'alice',
      downloads: 500,
      likes: 50,
      rating: 4.5,
      fileSize: 3000,
      civitaiModelId: 101,
      previewPath: 'styles/pixel_art.png',
      createdAt: day(1),
      rootId,
    },
    {
      key: 'eyes',
      name: 'Anime Eyes',
      relativePath: 'characters/anime/eyes.safetensors',
      baseModel: 'SD 1.5',
      modelType: 'LoCon',
      tags: ['anime', 'eyes'],
      trainedWords: ['animeeyes'],
      creator: 'bob',
      downloads: 1500,
      likes: 10,
      rating: 4.8,
      fileSize: 1000,
      nsfwLevel: 3,
      previewPath: 'characters/anime/eyes.webp',
      createdAt: day(2),
      rootId,
    },
    {
      key: 'water',
      name: 'Watercolor Dream',
      relativePath: 'styles/paint/watercolor.safetensors',
      baseModel: 'SDXL 1.0',
      tags: ['style', 'watercolor'],
      triggerWords: ['wcdream'],
      creator: 'carol',
      downloads: 50,
      likes: 70,
      rating: null,
      fileSize: 5000,
      createdAt: day(3),
      rootId,
    },
    {
      key: 'cafe',
      name: 'Café Ünïcode Ñame',
      relativePath: 'characters/cafe.safetensors',
      baseModel: 'Pony',
      tags: ['character'],
      creator: 'Zoë',
      downloads: 5,
      likes: 1,
      rating: 3.1,
      fileSize: 2000,
      nsfwLevel: 8,
      createdAt: day(4),
      rootId,
    },
    {
      key: 'neko',
      name: 'Кошка Neko',
      relativePath: 'characters/neko.safetensors',
      baseModel: 'Illustrious',
      modelType: 'DoRA',
      tags: ['character', 'anime'],
      downloads: 20,
      likes: 5,
      rating: 2,
      fileSize: 4000,
      nsfwLevel: 16,
      favorite: true,
      createdAt: day(5),
      rootId,
    },
    {
      key: 'gone',
      name: 'Missing Style',
      relativePath: 'styles/gone.safetensors',
      baseModel: 'SDXL 1.0',
      tags: ['style'],
      downloads: 9999,
      missingSince: day(9),
      createdAt: day(6),
      rootId,
    },
    {
      key: 'dupA',
      name: 'Dup A',
      relativePath: 'dups/a.safetensors',
      sha256: DUP,
      tags: ['concept'],
      downloads: 1,
      likes: 2,
      rating: 1,
      fileSize: 600,
      createdAt: day(7),
      rootId,
    },
    {
      key: 'dupB',
      name: 'Dup B',
      relativePath: 'dups/b.safetensors',
      sha256: DUP,
      sha256Verified: true,
      tags: ['concept'],
      downloads: 2,
      likes: 3,
      rating: 1.5,
      fileSize: 600,
      createdAt: day(8),
      rootId,
    },
    {
      key: 'dupGone',
      name: 'Dup Gone',
      relativePath: 'dups/c.safetensors',
      sha256: DUP,
      missingSince: day(9),
      createdAt: day(9),
      rootId,
    },
    {
      key: 'flux',
      name: 'Inactive Flux Concept',
      relativePath: 'styles-extra/flux.safetensors',
      baseModel: 'Flux.1 D',
      tags: ['concept'],
      civitaiModelId: 202,
      active: false,
      downloads: 300,
      likes: 30,
      rating: 4.0,
      fileSize: 8000,
      createdAt: day(10),
      rootId,
    },
    {
      key: 'evil',
      name: 'Evil Preview',
      relativePath: 'evil.safetensors',
      previewPath: 'evil.png',
      downloads: 3,
      fileSize: 10,
      createdAt: day(11),
      rootId,
    },
    {
      key: 'dotdot',
      name: 'Dotdot Preview',
      relativePath: 'dotdot.safetensors',
      previewPath: '../outside/secret.png',
      downloads: 4,
      fileSize: 11,
      createdAt: day(12),
      rootId,
    },
  ];
}

const DIALECTS = [
  { name: 'SQLite', pg: false },
  { name: 'PostgreSQL', pg: true },
];

describe.each(DIALECTS)('AdaptersController on $name', ({ pg: isPg }) => {
  const dir = tempDir(isPg ? 'aq-pg' : 'aq-sqlite');
  const root = join(dir.path, 'loras');
  let api: AppProcess;
  let db: SeedDb;
  let dropDb: (() => Promise<void>) | undefined;
  let base = '';
  const ids: Record<string, string> = {};
  let rows: (SeedAdapter & { key: string; id: string })[] = [];
  const png = tinyPng();
  const webp = tinyWebp();

  const get = async (path: string): Promise<{ status: number; body: JsonBody }> => {
    const res = await fetch(`${base}${path}`);
    return { status: res.status, body: await res.json().catch(() => null) };
  };
  const send = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: JsonBody }> => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: json,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  const list = async (query: string): Promise<Page> => {
    const res = await get(`/api/v1/adapters?${query}`);
    expect(res).toMatchObject({ status: 200 });
    return res.body as Page;
  };
  const names = (page: Page): string[] => page.items.map((i) => i.name);
  const present = (): (SeedAdapter & { key: string; id: string })[] => rows.filter((r) => !r.missingSince);
  const byName = (...keys: string[]): string[] => keys.map((k) => rows.find((r) => r.key === k)!.name).sort();

  beforeAll(async () => {
    mkdirSync(join(root, 'styles', 'paint'), { recursive: true });
    mkdirSync(join(root, 'characters', 'anime'), { recursive: true });
    mkdirSync(join(dir.path, 'outside'), { recursive: true });
    writeFileSync(join(root, 'styles', 'pixel_art.png'), png);
    writeFileSync(join(root, 'characters', 'anime', 'eyes.webp'), webp);
    writeFileSync(join(dir.path, 'outside', 'secret.png'), png);
    // A symlink inside the root that leads outside it: must never be served.
    symlinkSync(join(dir.path, 'outside', 'secret.png'), join(root, 'evil.png'));
    const rootId = createHash('sha256').update(realpathSync(root)).digest('hex').slice(0, 12);

    const port = await freePort();
    const { url, drop } = await createDialectDatabase(isPg, 'adapters_query', dir.path);
    dropDb = drop;
    const env = { DATA_DIR: join(dir.path, 'data'), DATABASE_URL: url, LORA_ROOTS: root, PORT: String(port) };
    if (isPg) expect((await runCli(['migrate'], env)).code).toBe(0);
    api = new AppProcess('api', env, port).start();
    await api.waitReady();
    base = api.baseUrl;
    db = await openSeedDb(url);
    const specs = fixture(rootId);
    const seeded = await seedAdapters(db, specs);
    rows = specs.map((s, i) => ({ ...s, id: seeded[i] }));
    for (const r of rows) ids[r.key] = r.id;
  }, 90_000);

  afterAll(async () => {
    await db?.close();
    await api?.stop();
    await dropDb?.();
    dir.remove();
  });

  describe('list', () => {
    it('should list present adapters by name with a total, and hide tombstones by default', async () => {
      const page = await list('');
      expect(page.total).toBe(present().length);
      expect(names(page)).toEqual(
        present()
          .map((r) => r.name)
          .sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1)),
      );
      expect(page).toMatchObject({ page: 1, limit: 50, pages: 1, sort: 'name', order: 'asc' });
      expect(names(await list('missing=true')).sort()).toEqual(byName('gone', 'dupGone'));
    });

    it.each([
      ['name', 'pixel', ['pixel']],
      ['name prefix', 'pix', ['pixel']],
      ['trained word', 'animeeyes', ['eyes']],
      ['trigger word', 'wcdream', ['water']],
      ['tag', 'watercolor', ['water']],
      ['creator', 'carol', ['water']],
      ['two terms (all must match)', 'style pix', ['pixel']],
      ['unicode with accents', 'café', ['cafe']],
      ['unicode creator', 'zoë', ['cafe']],
      ['cyrillic prefix', 'кош', ['neko']],
      ['file stem', 'pixel_art', ['pixel']],
      ['operators are plain text', '"anime" +eyes*) (:', ['eyes']],
    ])('should search by %s', async (_label, q, keys) => {
      const page = await list(`q=${encodeURIComponent(q)}`);
      expect(names(page).sort()).toEqual(byName(...keys));
      expect(page.total).toBe(keys.length);
      expect(page.sort).toBe('relevance');
    });

    it('should page a relevance search one row at a time without repeating or skipping a row, tombstones left out', async () => {
      const all = await list('q=style&limit=50');
      expect(all.total).toBeGreaterThan(1);
      const seen: string[] = [];
      for (let page = 1; page <= all.total; page++) seen.push(...names(await list(`q=style&limit=1&page=${page}`)));
      expect(seen).toEqual(names(all));
      expect(new Set(seen).size).toBe(all.total);
      const tombstoned = rows.filter((r) => r.missingSince).map((r) => r.name);
      expect(tombstoned).toContain('Missing Style');
      for (const name of tombstoned) expect(seen).not.toContain(name);
      const beyond = await get(`/api/v1/adapters?q=style&limit=1&page=${all.total + 1}`);
      expect(beyond.status).toBe(400);
      expect(JSON.stringify(beyond.body)).toContain('page');
      const reversed = await list('q=style&limit=50&order=asc');
      expect(reversed.total).toBe(all.total);
      expect(names(reversed)).toEqual([...names(all)].reverse());
    });

    it('should match a tag shared by several adapters and sort them by relevance or by a column', async () => {
      expect(names(await list('q=anime')).sort()).toEqual(byName('eyes', 'neko'));
      expect(names(await list('q=anime&sort=downloads'))).toEqual(['Anime Eyes', 'Кошка Neko']);
      expect(names(await list('q=anime&sort=downloads&order=asc'))).toEqual(['Кошка Neko', 'Anime Eyes']);
    });

    it.each([
      ['baseModel=SDXL%201.0', ['pixel', 'water']],
      ['baseModel=Pony,Illustrious', ['cafe', 'neko']],
      ['baseModel=Pony&baseModel=Flux.1%20D', ['cafe', 'flux']],
      ['tags=anime', ['eyes', 'neko']],
      ['tags=anime,style', ['eyes', 'neko', 'pixel', 'water']],
      ['tags=anime,character&tagMode=all', ['neko']],
      ['tags=Pixel%20Art&tagMode=all', ['pixel']],
      ['modelType=DoRA', ['neko']],
      ['modelType=LoCon,DoRA', ['eyes', 'neko']],
      ['nsfwMax=8&baseModel=Pony,Illustrious,SD%201.5&tags=anime,character', ['eyes', 'cafe']],
      ['nsfwMax=0&tags=anime,character', []],
      ['nsfwMax=2&tags=anime', ['eyes']],
      ['active=false', ['flux']],
      ['favorite=true', ['neko']],
      ['hasPreview=true', ['pixel', 'eyes', 'evil', 'dotdot']],
      ['hasPreview=false&baseModel=SDXL%201.0', ['water']],
      ['missing=true&baseModel=SDXL%201.0', ['gone']],
      ['folder=characters', ['eyes', 'cafe', 'neko']],
      ['folder=characters/anime/', ['eyes']],
      ['folder=styles', ['pixel', 'water']],
      ['folder=styles-extra', ['flux']],
      // Tombstones live outside the folder index (present adapters only).
      ['folder=styles&missing=true', ['gone']],
      ['civitaiModelId=202', ['flux']],
      ['q=style&baseModel=SDXL%201.0&favorite=false', ['pixel', 'water']],
    ])('should filter by %s', async (query, keys) => {
      const page = await list(query);
      expect(names(page).sort()).toEqual(byName(...keys));
      expect(page.total).toBe(keys.length);
    });

    it('should filter by library root', async () => {
      const rootId = rows[0].rootId;
      expect((await list(`root=${rootId}`)).total).toBe(present().length);
      expect((await list(`root=abcdef012345`)).total).toBe(0);
    });

    const columnOf: Record<string, (r: SeedAdapter & { id: string }) => number | string | null> = {
      name: (r) => r.name.toLowerCase(),
      created: (r) => r.createdAt!.getTime(),
      updated: (r) => (r.updatedAt ?? r.createdAt)!.getTime(),
      downloads: (r) => r.downloads ?? 0,
      rating: (r) => r.rating ?? null,
      likes: (r) => r.likes ?? 0,
      size: (r) => r.fileSize ?? 1000,
    };
    // Ties: by id on PostgreSQL, by the order rows were written (rowid, the fixture's order) on SQLite.
    const tieBreak = (a: SeedAdapter & { id: string }, b: SeedAdapter & { id: string }): number =>
      isPg
        ? a.id < b.id
          ? -1
          : a.id > b.id
            ? 1
            : 0
        : rows.indexOf(a as (typeof rows)[number]) - rows.indexOf(b as (typeof rows)[number]);
    it.each(
      Object.keys(columnOf).flatMap((sort) => [
        [sort, 'asc'],
        [sort, 'desc'],
      ]),
    )('should sort by %s %s with a stable tie-break', async (sort, order) => {
      const value = columnOf[sort];
      const sign = order === 'asc' ? 1 : -1;
      const cmp = (a: unknown, b: unknown): number => {
        // NULL ratings are the lowest value on both databases.
        if (a === b) return 0;
        if (a === null) return -1;
        if (b === null) return 1;
        return (a as number) < (b as number) ? -1 : 1;
      };
      const expected = [...present()]
        .sort((a, b) => sign * (cmp(value(a), value(b)) || tieBreak(a, b)))
        .map((r) => r.id);
      const page = await list(`sort=${sort}&order=${order}`);
      expect(page.items.map((i) => i.id)).toEqual(expected);
    });

    it.each(
      Object.keys(columnOf).flatMap((sort) => [
        [sort, 'asc'],
        [sort, 'desc'],
      ]),
    )(
      'should page by %s %s one row at a time in the order of the whole list, tombstones apart',
      async (sort, order) => {
        // Early pages walk the sort index (present adapters only), later ones collect and sort: the same order.
        const whole = (await list(`sort=${sort}&order=${order}&limit=200`)).items.map((i) => i.id);
        const paged: string[] = [];
        for (let p = 1; p <= whole.length; p++)
          paged.push(...(await list(`sort=${sort}&order=${order}&limit=1&page=${p}`)).items.map((i) => i.id));
        expect(paged).toEqual(whole);
        const tombstones = rows.filter((r) => r.missingSince).map((r) => r.id);
        const gone = (await list(`missing=true&sort=${sort}&order=${order}&limit=1`)).items.map((i) => i.id);
        expect(gone).toHaveLength(1);
        expect(tombstones).toContain(gone[0]);
      },
    );

    it('should page with a stable total and refuse a limit above 200', async () => {
      const all: string[] = [];
      const n = present().length;
      for (let p = 1; p <= Math.ceil(n / 3); p++) {
        const page = await list(`limit=3&page=${p}&sort=downloads`);
        expect(page).toMatchObject({ total: n, limit: 3, page: p, pages: Math.ceil(n / 3) });
        all.push(...page.items.map((i) => i.id));
      }
      expect(new Set(all).size).toBe(n);
      expect((await list('limit=200')).limit).toBe(200);
      expect(await get('/api/v1/adapters?limit=201')).toMatchObject({
        status: 400,
        body: {
          code: 'validation_failed',
          details: [{ field: 'limit', message: 'limit must not be greater than 200' }],
        },
      });
    });

    it('should count facets with the same filters as the list', async () => {
      const page = await list('facets=baseModel,tags&q=style');
      expect(page.total).toBe(2);
      expect(page.facets?.baseModel).toEqual([{ value: 'SDXL 1.0', count: 2 }]);
      expect(page.facets?.tags).toEqual([
        { value: 'style', count: 2 },
        { value: 'pixel art', count: 1 },
        { value: 'watercolor', count: 1 },
      ]);
      const all = await list('facets=baseModel,tags');
      expect(all.facets!.baseModel!.reduce((s, f) => s + f.count, 0)).toBe(all.total);
      expect(all.facets!.tags!.find((t) => t.value === 'style')).toEqual({ value: 'style', count: 2 });
      expect(all.facets!.tags!.find((t) => t.value === 'concept')).toEqual({ value: 'concept', count: 3 });
      const onlyBase = await list('facets=baseModel&tags=anime');
      expect(onlyBase.facets).toEqual({
        baseModel: [
          { value: 'Illustrious', count: 1 },
          { value: 'SD 1.5', count: 1 },
        ],
      });
    });

    it.each([
      'q=style',
      'q=anime',
      'tags=concept,anime',
      'baseModel=SDXL%201.0',
      'missing=true',
      'q=dup&missing=true',
      'folder=styles&nsfwMax=1',
      'active=false',
      'q=nothing-matches-this',
      // Filters that keep more than half of the present adapters: counted as the library minus the rest.
      'active=true',
      'favorite=false',
      'nsfwMax=1',
      'hasPreview=false',
      'q=e&active=true',
    ])('should give the facets and total of exactly the listed adapters for %s', async (filter) => {
      const listed = await list(`${filter}&limit=200`);
      const withFacets = await list(`${filter}&limit=200&facets=baseModel,tags`);
      expect(withFacets.total).toBe(listed.total);
      expect(names(withFacets)).toEqual(names(listed));
      const tally = (values: string[]): { value: string; count: number }[] => {
        const counts = new Map<string, number>();
        for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
        return [...counts]
          .map(([value, count]) => ({ value, count }))
          .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : 1));
      };
      expect(withFacets.facets).toEqual({
        baseModel: tally(listed.items.map((i) => i.baseModel as string)),
        tags: tally(listed.items.flatMap((i) => i.tags as string[])),
      });
      // Any page, in either order, is the same with facets as without (PostgreSQL ranks it in the facets' pass).
      const pages: [string, number][] = [
        ['&limit=1&page=2', 2],
        ['&order=asc&limit=2&page=2', 3],
        ['&order=asc', 0],
      ];
      for (const [more, needs] of pages.filter(([, needs]) => listed.total >= needs)) {
        expect(names(await list(`${filter}${more}&facets=tags`))).toEqual(names(await list(`${filter}${more}`)));
        expect(needs === 0 || (await list(`${filter}${more}`)).items.length > 0).toBe(true);
      }
    });

    it('should keep whole-library facets, counts and searches exact across writes of another connection', async () => {
      const before = await list('facets=baseModel,tags&q=style');
      const all = await list('facets=baseModel,tags');
      const tagsBefore = (await get('/api/v1/adapters/tags')).body as { value: string; count: number }[];
      const pixel = rows.find((r) => r.key === 'pixel')!;
      const p = (n: number): string => (isPg ? `$${n}` : '?');
      // A tombstone written outside the API (as a CLI import would): every cached answer must see it.
      await db.exec(`UPDATE adapters SET missing_since = ${p(1)} WHERE id = ${p(2)}`, [
        isPg ? '2025-06-01T00:00:00Z' : '2025-06-01 00:00:00.000',
        pixel.id,
      ]);
      try {
        const after = await list('facets=baseModel,tags&q=style');
        expect(after.total).toBe(before.total - 1);
        expect(names(after)).not.toContain(pixel.name);
        expect(after.facets?.tags).toEqual([
          { value: 'style', count: 1 },
          { value: 'watercolor', count: 1 },
        ]);
        const allAfter = await list('facets=baseModel,tags');
        expect(allAfter.total).toBe(all.total - 1);
        expect(allAfter.facets!.baseModel!.reduce((s, f) => s + f.count, 0)).toBe(allAfter.total);
        expect(allAfter.facets!.baseModel!.find((b) => b.value === 'SDXL 1.0')).toEqual({
          value: 'SDXL 1.0',
          count: 1,
        });
        expect(allAfter.facets!.tags!.find((t) => t.value === 'pixel art')).toBeUndefined();
        expect((await get('/api/v1/adapters/tags')).body).toContainEqual({ value: 'style', count: 1 });
      } finally {
        await db.exec(`UPDATE adapters SET missing_since = NULL WHERE id = ${p(1)}`, [pixel.id]);
      }
      expect(await list('facets=baseModel,tags&q=style')).toEqual(before);
      expect(await list('facets=baseModel,tags')).toEqual(all);
      expect((await get('/api/v1/adapters/tags')).body).toEqual(tagsBefore);
    });

    it('should show a row and its Civitai update flag as another connection changed them, page after page', async () => {
      const pixel = rows.find((r) => r.key === 'pixel')!;
      const p = (n: number): string => (isPg ? `$${n}` : '?');
      const item = async (): Promise<Item> => (await list('limit=50')).items.find((i) => i.id === pixel.id)!;
      const before = await list('limit=50');
      expect(await list('limit=50')).toEqual(before);
      expect(before.items.find((i) => i.id === pixel.id)).toMatchObject({ name: pixel.name, hasUpdate: false });
      try {
        // Written outside the API (another API instance, a CLI import): the next page must show it.
        await db.exec(
          `UPDATE adapters SET name = ${p(1)}, downloads = ${p(2)}, civitai_version_id = ${p(3)} WHERE id = ${p(4)}`,
          ['Pixel Art Renamed', 9999, 5501, pixel.id],
        );
        expect(await item()).toMatchObject({ name: 'Pixel Art Renamed', downloads: 9999, hasUpdate: false });
        await db.exec(
          `INSERT INTO civitai_updates (adapter_id, model_id, version_id, newer, has_update, checked_at) ` +
            `VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)})`,
          [pixel.id, 101, 5501, '[]', isPg ? true : 1, isPg ? '2025-06-01T00:00:00Z' : '2025-06-01 00:00:00.000'],
        );
        expect(await item()).toMatchObject({ name: 'Pixel Art Renamed', hasUpdate: true });
        // The rows nobody changed read as before.
        const after = await list('limit=50');
        const others = (page: Page) => page.items.filter((i) => i.id !== pixel.id);
        expect(others(after)).toEqual(others(before));
      } finally {
        await db.exec(`DELETE FROM civitai_updates WHERE adapter_id = ${p(1)}`, [pixel.id]);
        await db.exec(
          `UPDATE adapters SET name = ${p(1)}, downloads = ${p(2)}, civitai_version_id = NULL WHERE id = ${p(3)}`,
          [pixel.name, pixel.downloads, pixel.id],
        );
      }
      expect(await list('limit=50')).toEqual(before);
    });

    it.each([
      ['foo=1', 'foo'],
      ['sort=bogus', 'sort'],
      ['sort=relevance', 'sort'],
      ['order=up', 'order'],
      ['page=99', 'page'],
      ['page=0', 'page'],
      ['limit=0', 'limit'],
      ['limit=abc', 'limit'],
      ['limit=0x10', 'limit'],
      ['limit=1e3', 'limit'],
      ['limit=%2012', 'limit'],
      ['limit=', 'limit'],
      ['page=1e20', 'page'],
      ['page=99999999999999999999', 'page'],
      ['page=50001', 'page'],
      ['nsfwMax=0x10', 'nsfwMax'],
      ['civitaiModelId=1e300', 'civitaiModelId'],
      ['civitaiModelId=9223372036854775807', 'civitaiModelId'],
      ['nsfwMax=3', 'nsfwMax'],
      ['active=maybe', 'active'],
      ['tagMode=some', 'tagMode'],
      ['facets=creator', 'facets'],
      ['civitaiModelId=x', 'civitaiModelId'],
      ['folder=../etc', 'folder'],
      ['q=%22%22%21', 'q'],
    ])('should refuse %s with a 400 naming the field', async (query, field) => {
      const res = await get(`/api/v1/adapters?${query}`);
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body.details ?? res.body.message)).toContain(field);
    });
  });

  describe('one adapter', () => {
    it('should get one with its details, and 404 an unknown id, 400 a bad one', async () => {
      const res = await get(`/api/v1/adapters/${ids.pixel}`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        id: ids.pixel,
        name: 'Pixel Art Style',
        tags: ['style', 'pixel art'],
        userEdited: [],
        folder: 'styles',
      });
      expect((await get(`/api/v1/adapters/${randomUUID()}`)).status).toBe(404);
      expect((await get('/api/v1/adapters/not-a-uuid')).status).toBe(400);
    });

    it('should list tags and base models of present adapters with counts', async () => {
      const tags = await get('/api/v1/adapters/tags');
      expect(tags.status).toBe(200);
      expect(tags.body[0]).toEqual({ value: 'concept', count: 3 });
      expect(tags.body).toContainEqual({ value: 'style', count: 2 });
      expect((await get('/api/v1/adapters/tags?prefix=wat')).body).toEqual([{ value: 'watercolor', count: 1 }]);
      const bases = await get('/api/v1/adapters/base-models');
      expect(bases.body).toContainEqual({ value: 'SDXL 1.0', count: 2 });
      expect(bases.body.reduce((s: number, b: { count: number }) => s + b.count, 0)).toBe(present().length);
    });

    it('should group duplicates by sha256 among present adapters, and say which rest on a sidecar’s claim', async () => {
      const res = await get('/api/v1/adapters/duplicates');
      expect(res.status).toBe(200);
      // Dup A's hash is a sidecar's claim, Dup B's was computed: the group is not proven.
      expect(res.body).toMatchObject({ total: 1, groups: [{ sha256: DUP, count: 2, verified: false }] });
      expect(res.body.groups[0].adapters.map((a: Item) => [a.name, a.sha256Verified])).toEqual([
        ['Dup A', false],
        ['Dup B', true],
      ]);
      // Computed hashes only: one adapter is no group.
      expect((await get('/api/v1/adapters/duplicates?verified=true')).body).toMatchObject({ total: 0, groups: [] });
      expect((await get('/api/v1/adapters/duplicates?verified=maybe')).status).toBe(400);
      // Lists say it too.
      expect((await list('folder=dups&sort=name')).items.map((a) => [a.name, a.sha256Verified])).toEqual([
        ['Dup A', false],
        ['Dup B', true],
      ]);
    });

    it('should serve the preview with its content type, and refuse files outside the root', async () => {
      const res = await fetch(`${base}/api/v1/adapters/${ids.pixel}/preview`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/png');
      expect(Buffer.from(await res.arrayBuffer()).equals(png)).toBe(true);
      const webpRes = await fetch(`${base}/api/v1/adapters/${ids.eyes}/preview`);
      expect(webpRes.headers.get('content-type')).toBe('image/webp');
      expect(Buffer.from(await webpRes.arrayBuffer()).equals(webp)).toBe(true);
      for (const key of ['evil', 'dotdot', 'water']) {
        const refused = await get(`/api/v1/adapters/${ids[key]}/preview`);
        expect(refused).toMatchObject({ status: 404, body: { code: 'preview_not_found' } });
      }
      expect((await get(`/api/v1/adapters/${randomUUID()}/preview`)).status).toBe(404);
    });
  });

  describe('edits', () => {
    it('should patch user fields, recompute derived ones and record them in userEdited', async () => {
      // Asked before the edit, so that an answer kept from before it would show.
      expect(names(await list('q=wcdream'))).toEqual(['Watercolor Dream']);
      expect((await list('tags=painting&facets=tags')).total).toBe(0);
      const res = await send('PATCH', `/api/v1/adapters/${ids.water}`, {
        name: 'Aquarelle Dream',
        tags: ['Painting', 'style', 'painting'],
        triggerWords: ['aquadream'],
        nsfwOverride: 12,
        preferredWeight: 0.8,
        weightMin: 0.2,
        weightMax: 1.2,
        notes: 'soft',
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        name: 'Aquarelle Dream',
        tags: ['painting', 'style'],
        triggerWords: ['aquadream'],
        nsfwOverride: 12,
        nsfwMax: 8,
        notes: 'soft',
      });
      expect([...res.body.userEdited].sort()).toEqual([
        'name',
        'notes',
        'nsfwOverride',
        'preferredWeight',
        'tags',
        'triggerWords',
        'weightMax',
        'weightMin',
      ]);
      expect(names(await list('q=aquadream'))).toEqual(['Aquarelle Dream']);
      expect(names(await list('q=aqua'))).toEqual(['Aquarelle Dream']);
      expect((await list('q=wcdream')).total).toBe(0);
      expect(names(await list('tags=painting'))).toEqual(['Aquarelle Dream']);
      expect((await list('facets=tags')).facets?.tags).toContainEqual({ value: 'painting', count: 1 });
      expect((await list('tags=watercolor')).total).toBe(0);
      expect(names(await list('nsfwMax=4&baseModel=SDXL%201.0'))).toEqual(['Pixel Art Style']);
      const again = await send('PATCH', `/api/v1/adapters/${ids.water}`, { favorite: true, notes: null });
      expect(again.body).toMatchObject({ favorite: true, notes: null, name: 'Aquarelle Dream' });
      expect(again.body.userEdited).toEqual(expect.arrayContaining(['name', 'favorite', 'notes']));
    });

    it.each([
      [{ preferredWeight: 1.5 }, 'preferredWeight'],
      [{ weightMin: 2 }, 'weightMin'],
      [{ nsfwOverride: 64 }, 'nsfwOverride'],
      [{ name: null }, 'name'],
      [{ name: '' }, 'name'],
      [{ tags: 'style' }, 'tags'],
      [{ sha256: 'x' }, 'sha256'],
      [{}, 'field'],
    ])('should refuse the patch %j with a 400', async (body, field) => {
      const res = await send('PATCH', `/api/v1/adapters/${ids.water}`, body);
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body)).toContain(field);
    });

    it('should 404 edits of an unknown adapter', async () => {
      expect((await send('PATCH', `/api/v1/adapters/${randomUUID()}`, { favorite: true })).status).toBe(404);
      expect((await send('DELETE', `/api/v1/adapters/${randomUUID()}`)).status).toBe(404);
      expect((await send('POST', `/api/v1/adapters/${randomUUID()}/activate`, {})).status).toBe(404);
    });

    it('should activate with an ordinal and deactivate', async () => {
      const on = await send('POST', `/api/v1/adapters/${ids.flux}/activate`, { ordinal: 3 });
      expect(on).toMatchObject({ status: 200, body: { active: true, ordinal: 3 } });
      expect(on.body.userEdited).toEqual(expect.arrayContaining(['active', 'ordinal']));
      const off = await send('POST', `/api/v1/adapters/${ids.flux}/deactivate`);
      expect(off).toMatchObject({ status: 200, body: { active: false, ordinal: 3 } });
      expect((await send('POST', `/api/v1/adapters/${ids.flux}/activate`, { ordinal: -1 })).status).toBe(400);
    });

    it('should run bulk actions in one go and report unknown ids', async () => {
      const unknown = randomUUID();
      const fav = await send('POST', '/api/v1/adapters/bulk', {
        action: 'favorite',
        ids: [ids.pixel, ids.eyes, unknown],
      });
      expect(fav).toMatchObject({ status: 200, body: { action: 'favorite', affected: 2, notFound: [unknown] } });
      expect(names(await list('favorite=true')).sort()).toEqual([
        'Anime Eyes',
        'Aquarelle Dream',
        'Pixel Art Style',
        'Кошка Neko',
      ]);
      expect((await get(`/api/v1/adapters/${ids.pixel}`)).body.userEdited).toEqual(['favorite']);
      await send('POST', '/api/v1/adapters/bulk', { action: 'unfavorite', ids: [ids.pixel, ids.eyes] });
      await send('POST', '/api/v1/adapters/bulk', { action: 'deactivate', ids: [ids.pixel, ids.cafe] });
      expect(names(await list('active=false')).sort()).toEqual([
        'Café Ünïcode Ñame',
        'Inactive Flux Concept',
        'Pixel Art Style',
      ]);
      await send('POST', '/api/v1/adapters/bulk', { action: 'activate', ids: [ids.pixel, ids.cafe] });
      expect((await list('active=false')).total).toBe(1);
      const del = await send('POST', '/api/v1/adapters/bulk', { action: 'delete', ids: [ids.dupA, ids.dupB] });
      expect(del.body).toMatchObject({ affected: 2, notFound: [] });
      expect((await get('/api/v1/adapters/duplicates')).body).toMatchObject({ total: 0, groups: [] });
      expect((await list('tags=concept')).total).toBe(1);
      expect((await get('/api/v1/adapters/tags')).body).toContainEqual({ value: 'concept', count: 1 });
    });

    it.each([
      [{ action: 'explode', ids: [randomUUID()] }, 'action'],
      [{ action: 'delete', ids: ['nope'] }, 'ids'],
      [{ action: 'delete', ids: [] }, 'ids'],
      [{ action: 'delete', ids: Array.from({ length: 1001 }, () => randomUUID()) }, 'ids'],
      [{ action: 'delete', ids: [randomUUID()], extra: 1 }, 'extra'],
    ])('should refuse the bulk body %# with a 400', async (body, field) => {
      const res = await send('POST', '/api/v1/adapters/bulk', body);
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body.details)).toContain(field);
    });

    it('should delete one record with a 204, then 404', async () => {
      const res = await send('DELETE', `/api/v1/adapters/${ids.neko}`);
      expect(res.status).toBe(204);
      expect((await get(`/api/v1/adapters/${ids.neko}`)).status).toBe(404);
      expect((await list('tags=character')).total).toBe(1);
    });
  });
});
