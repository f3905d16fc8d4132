import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { openSeedDb, type SeedAdapter, type SeedDb, seedAdapters } from './support/adapter-seed.js';
import { AppProcess, freePort, runCli } from './support/app-process.js';
import { buildCorpus } from './support/corpus-builder.js';
import { createDialectDatabase, tempDir } from './support/test-services.js';

// Response bodies are checked field by field with expect(); a loose type keeps the assertions readable.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type JsonBody = any;

interface Item {
  id: string;
  name: string;
  relativePath: string;
  active: boolean;
  baseModel: string;
}

const DIALECTS = [
  { name: 'SQLite', pg: false },
  { name: 'PostgreSQL', pg: true },
];

/** The imported library: relative path → the base model its files say. */
const FILES = {
  sdxl: 'sdxl/painterly.safetensors',
  pony: 'pony/pony_girl.safetensors',
  sd15: 'sd15/anime_eyes.safetensors',
  flux: 'flux/flux_concept.safetensors',
  illustrious: 'illustrious/neko.safetensors',
  broken: 'broken/bad_sidecar.safetensors',
} as const;
type Key = keyof typeof FILES;

/** The most active adapters a composition without `adapters` takes (`MAX_ACTIVE_COMPOSED`). */
const COMPOSE_LIMIT = 100;

/**
 * What a user sees of the library's defaults: base-model filters that take any case and the common aliases, a
 * warnings filter, imported adapters that start inactive, a composition that needs adapters or an active set, and
 * an active set beyond the limit reported, not cut silently.
 */
describe.each(DIALECTS)('library defaults on $name', ({ pg: isPg }) => {
  const dir = tempDir(isPg ? 'defaults-pg' : 'defaults-sqlite');
  const root = join(dir.path, 'loras');
  let api: AppProcess;
  let env: Record<string, string>;
  let db: SeedDb | undefined;
  let dropDb: (() => Promise<void>) | undefined;
  const ids = {} as Record<Key, string>;

  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: JsonBody }> => {
    const res = await fetch(`${api.baseUrl}/api/v1${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  const list = async (
    query: string,
  ): Promise<{ items: Item[]; total: number; warnings: JsonBody[]; facets?: JsonBody }> => {
    const res = await call('GET', `/adapters?limit=200&${query}`);
    expect(res).toMatchObject({ status: 200 });
    return res.body;
  };

  beforeAll(async () => {
    await buildCorpus(root, {
      adapters: [
        { relPath: FILES.sdxl, safetensors: { seed: 'sdxl' }, civitaiInfo: { id: 11, baseModel: 'SDXL 1.0' } },
        { relPath: FILES.pony, safetensors: { seed: 'pony' }, civitaiInfo: { id: 12, baseModel: 'Pony' } },
        { relPath: FILES.sd15, safetensors: { seed: 'sd15', metadata: { ss_base_model_version: 'sd_v1' } } },
        {
          relPath: FILES.flux,
          safetensors: { seed: 'flux', metadata: { 'modelspec.architecture': 'flux-1-dev/lora' } },
        },
        {
          relPath: FILES.illustrious,
          safetensors: { seed: 'illustrious' },
          civitaiInfo: { id: 13, baseModel: 'Illustrious' },
        },
        { relPath: FILES.broken, safetensors: { seed: 'broken' } },
      ],
      files: [{ relPath: 'broken/bad_sidecar.civitai.info', content: '{"id": 1, "files": [' }],
    });
    const { url, drop } = await createDialectDatabase(isPg, 'library_defaults', dir.path);
    dropDb = drop;
    const port = await freePort();
    env = { DATA_DIR: join(dir.path, 'data'), DATABASE_URL: url, LORA_ROOTS: root, PORT: String(port) };
    if (isPg) expect((await runCli(['migrate'], env)).code).toBe(0);
    expect((await runCli(['import'], env)).code).toBe(0);
    api = new AppProcess('api', env, port).start();
    await api.waitReady();
    const { items } = await list('');
    for (const [key, path] of Object.entries(FILES)) {
      const item = items.find((i) => i.relativePath === path);
      expect(item).toBeDefined();
      ids[key as Key] = item!.id;
    }
    db = await openSeedDb(url);
  }, 120_000);

  afterAll(async () => {
    await db?.close();
    await api?.stop();
    await dropDb?.();
    dir.remove();
  });

  const namesOf = (page: { items: Item[] }): string[] => page.items.map((i) => i.relativePath).sort();
  const paths = (...keys: Key[]): string[] => keys.map((k) => FILES[k]).sort();

  describe('base-model filter', () => {
    it.each([
      ['SDXL 1.0', ['sdxl']],
      ['sdxl', ['sdxl']],
      ['SDXL', ['sdxl']],
      ['sdxl%201.0', ['sdxl']],
      ['pony', ['pony']],
      ['SD15', ['sd15']],
      ['sd%201.5', ['sd15']],
      ['flux', ['flux']],
      ['Flux.1%20D', ['flux']],
      ['il', ['illustrious']],
      ['PONY,illustrious', ['pony', 'illustrious']],
      ['unknown', ['broken']],
    ] as [string, Key[]][])('should answer baseModel=%s with the adapters of that base model', async (value, keys) => {
      const page = await list(`baseModel=${value}`);
      expect(namesOf(page)).toEqual(paths(...keys));
      expect(page.total).toBe(keys.length);
      expect(page.warnings).toEqual([]);
    });

    it('should count the facets of an aliased base model under its stored name', async () => {
      const page = await list('baseModel=sdxl&facets=baseModel');
      expect(page.facets.baseModel).toEqual([{ value: 'SDXL 1.0', count: 1 }]);
    });

    it('should say which baseModel value names no known base model, and match nothing for it', async () => {
      const unknown = await list('baseModel=sdxxl');
      expect(unknown.total).toBe(0);
      expect(unknown.warnings).toEqual([
        { code: 'unknown_base_model', field: 'baseModel', value: 'sdxxl', message: expect.stringContaining('"sdxxl"') },
      ]);
      expect(unknown.warnings[0].message).toMatch(/no known base model/);

      const mixed = await list('baseModel=pony,Nonesuch%20XL');
      expect(namesOf(mixed)).toEqual(paths('pony'));
      expect(mixed.warnings.map((w: { value: string }) => w.value)).toEqual(['Nonesuch XL']);
    });

    it('should match a base model a user spelled differently, in any case', async () => {
      const edited = await call('PATCH', `/adapters/${ids.broken}`, { baseModel: 'my custom base' });
      expect(edited).toMatchObject({ status: 200, body: { baseModel: 'my custom base' } });
      const page = await list('baseModel=My%20Custom%20BASE');
      expect(namesOf(page)).toEqual(paths('broken'));
      expect(page.warnings).toEqual([]);
      // A user's own spelling of a known one joins it.
      expect((await call('PATCH', `/adapters/${ids.broken}`, { baseModel: 'sdxl' })).status).toBe(200);
      expect(namesOf(await list('baseModel=SDXL%201.0'))).toEqual(paths('sdxl', 'broken'));
      expect((await call('PATCH', `/adapters/${ids.broken}`, { baseModel: 'Unknown' })).status).toBe(200);
    });
  });

  describe('hasWarnings filter', () => {
    it('should list the adapters whose import left warnings, and the others', async () => {
      const warned = await list('hasWarnings=true');
      expect(namesOf(warned)).toEqual(paths('broken'));
      expect(warned.items[0]).toMatchObject({ hasWarnings: true });
      const detail = await call('GET', `/adapters/${ids.broken}`);
      expect(detail.body.warnings.length).toBeGreaterThan(0);

      const clean = await list('hasWarnings=false');
      expect(namesOf(clean)).toEqual(paths('sdxl', 'pony', 'sd15', 'flux', 'illustrious'));
      expect(clean.items.map((i) => (i as Item & { hasWarnings: boolean }).hasWarnings)).toEqual(
        clean.items.map(() => false),
      );
      expect(namesOf(await list('hasWarnings=false&baseModel=sdxl'))).toEqual(paths('sdxl'));
      expect((await list('hasWarnings=true&baseModel=sdxl')).total).toBe(0);
    });

    it('should refuse a hasWarnings value that is not a boolean, naming it', async () => {
      const res = await call('GET', '/adapters?hasWarnings=maybe');
      expect(res.status).toBe(400);
      expect(res.body.details).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'hasWarnings' })]));
    });
  });

  describe('activation', () => {
    it('should import every new adapter inactive, so the active set starts empty', async () => {
      const all = await list('');
      expect(all.total).toBe(Object.keys(FILES).length);
      expect(all.items.map((i) => i.active)).toEqual(all.items.map(() => false));
      expect((await list('active=true')).total).toBe(0);
      expect((await list('active=false')).total).toBe(Object.keys(FILES).length);
    });

    it.each([
      ['no adapters field', {}],
      ['an empty adapters list', { adapters: [] }],
    ])('should refuse a composition with %s while none is active: 400 no_active_adapters', async (_label, body) => {
      const res = await call('POST', '/compose', body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({
        statusCode: 400,
        code: 'no_active_adapters',
        details: [{ field: 'adapters' }],
      });
      expect(res.body.message).toMatch(/none are active: pass `adapters`, or activate some/);
    });

    it('should compose the adapters the user activated, in their order, and keep them active after a resync', async () => {
      expect((await call('POST', `/adapters/${ids.sdxl}/activate`, { ordinal: 2 })).status).toBe(200);
      expect((await call('POST', `/adapters/${ids.pony}/activate`, { ordinal: 1 })).status).toBe(200);
      const composed = await call('POST', '/compose', { triggerWords: 'none' });
      expect(composed.status).toBe(200);
      expect(composed.body.adapters.map((a: { id: string }) => a.id)).toEqual([ids.pony, ids.sdxl]);
      expect(composed.body.tokens).toHaveLength(2);
      expect(composed.body.warnings.map((w: { code: string }) => w.code)).not.toContain('active_set_truncated');

      // A forced re-read of every file keeps the user's choice, and leaves the others inactive.
      expect((await runCli(['import', '--force-resync'], env)).code).toBe(0);
      const active = await list('active=true');
      expect(active.items.map((i) => i.id).sort()).toEqual([ids.pony, ids.sdxl].sort());
    });

    it(`should say how many active adapters a composition left out beyond its limit of ${COMPOSE_LIMIT}`, async () => {
      // 101 more active adapters (written straight to the database: importing 101 files adds nothing here).
      const extra: SeedAdapter[] = Array.from({ length: 101 }, (_, i) => ({
        rootId: createHash('sha256').update(realpathSync(root)).digest('hex').slice(0, 12),
        relativePath: `seeded/extra_${String(i).padStart(3, '0')}.safetensors`,
        name: `Extra ${String(i).padStart(3, '0')}`,
        baseModel: 'SDXL 1.0',
        active: true,
      }));
      await seedAdapters(db!, extra);
      expect((await list('active=true')).total).toBe(103);

      const composed = await call('POST', '/compose', { triggerWords: 'none' });
      expect(composed.status).toBe(200);
      expect(composed.body.adapters).toHaveLength(COMPOSE_LIMIT);
      // The ordered ones first: the cut falls on the unordered ones, last by name.
      expect(composed.body.adapters.slice(0, 2).map((a: { id: string }) => a.id)).toEqual([ids.pony, ids.sdxl]);
      const truncated = composed.body.warnings.filter((w: { code: string }) => w.code === 'active_set_truncated');
      expect(truncated).toHaveLength(1);
      expect(truncated[0].message).toContain('103 adapters are active');
      expect(truncated[0].message).toContain(`takes the first ${COMPOSE_LIMIT}`);
      expect(truncated[0].message).toContain('3 were left out');

      // Explicit adapters are never cut nor warned about.
      const explicit = await call('POST', '/compose', { adapters: [{ id: ids.flux }], triggerWords: 'none' });
      expect(explicit.status).toBe(200);
      expect(explicit.body.warnings.map((w: { code: string }) => w.code)).not.toContain('active_set_truncated');
    });
  });
});
