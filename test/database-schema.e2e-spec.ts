import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AppProcess, freePort, runCli } from './support/app-process.js';
import { importJson } from './support/cli-library.js';
import { generateCorpus } from './support/corpus-builder.js';
import { queryRows } from './support/db-inspect.js';
import { createRedisPrefix, createTestDatabase, REDIS_URL, tempDir } from './support/test-services.js';

/**
 * A deployment that keeps its tables in a PostgreSQL schema of its own (`DATABASE_SCHEMA`), beside other data in
 * the same database: the migrations' and the library queries' own SQL must find the tables there, not in `public`.
 */
describe('PostgreSQL with DATABASE_SCHEMA', () => {
  const dir = tempDir('pg-schema');
  const redis = createRedisPrefix('pgschema');
  let db: { url: string; drop: () => Promise<void> };
  let env: Record<string, string>;
  let api: AppProcess;

  beforeAll(async () => {
    db = await createTestDatabase('pg_schema');
    await generateCorpus(`${dir.path}/loras`, 12);
    env = {
      DATA_DIR: `${dir.path}/data`,
      DATABASE_URL: db.url,
      DATABASE_SCHEMA: 'lora_two',
      REDIS_URL,
      REDIS_PREFIX: redis.prefix,
      LORA_ROOTS: `${dir.path}/loras`,
    };
  });

  afterAll(async () => {
    await api?.stop();
    await redis.clear();
    await db?.drop();
    dir.remove();
  });

  it('should create the schema on the first migrate and build every table inside it', async () => {
    const migrated = await runCli(['migrate'], env);
    expect(migrated).toMatchObject({ code: 0 });
    expect(migrated.output).toContain('applied CreateAdapters');
    const tables = await queryRows<{ schema: string; name: string }>(
      db.url,
      `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
       WHERE table_schema IN ('public', 'lora_two') AND table_type = 'BASE TABLE'`,
    );
    expect(tables.filter((t) => t.schema === 'public')).toEqual([]);
    expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(['adapters', 'adapter_search', 'migrations']));
    const check = await runCli(['migrate', '--check'], env);
    expect(check.output).toContain('Database is up to date.');
  });

  it('should import into the schema and answer searches and facets from it', async () => {
    const summary = await importJson(env);
    expect(summary.counts.added).toBe(12);
    const port = await freePort();
    api = new AppProcess('api', { ...env, PORT: String(port) }, port).start();
    await api.waitReady();
    const found = (await (await fetch(`${api.baseUrl}/api/v1/adapters?q=lora_00007`)).json()) as {
      total: number;
      items: { name: string }[];
    };
    expect(found.total).toBe(1);
    expect(found.items.map((a) => a.name)).toEqual(['lora_00007']);
    const faceted = (await (await fetch(`${api.baseUrl}/api/v1/adapters?limit=1&facets=baseModel`)).json()) as {
      total: number;
      facets: { baseModel: { value: string; count: number }[] };
    };
    expect(faceted.total).toBe(12);
    expect(faceted.facets.baseModel.reduce((sum, b) => sum + b.count, 0)).toBe(12);
    const rows = await queryRows<{ n: string }>(db.url, 'SELECT count(*) AS n FROM lora_two.adapters');
    expect(Number(rows[0]?.n)).toBe(12);
  });
});
