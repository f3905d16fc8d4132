import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { addJob, emptyCell, type GenerationCell, parseBins } from '../libs/insights/src/analytics/generation-cells.js';
import { adapterSpec, openSeedDb, type SeedDb, seedAdapters } from './support/adapter-seed.js';
import { seedGenerations, type SeedGeneration } from './support/job-seed.js';
import { createDialectDatabase, dataSourceAt, runMigrationsAt, tempDir } from './support/test-services.js';
import { AnalyticsRepository } from '../libs/insights/src/analytics/analytics.repository.js';

// The migrations only: no entity is loaded, so both dialects can run in one file.
const { MIGRATIONS } = await import('@app/migrations');

const DIALECTS = [
  { name: 'SQLite', pg: false },
  { name: 'PostgreSQL', pg: true },
];
const STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;

type Row = Record<string, unknown>;

/** Deterministic jobs over two days, three backends (and none), with 0-4 of the given adapters each. */
function workload(seed: number, adapterIds: string[], count: number): SeedGeneration[] {
  let state = seed;
  const next = (n: number): number => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state % n;
  };
  return Array.from({ length: count }, () => {
    const status = STATUSES[next(STATUSES.length)];
    const started = status !== 'queued' && status !== 'cancelled';
    return {
      status,
      backendId: next(4) === 0 ? null : `sdnext-${next(3)}`,
      createdAt: new Date(Date.UTC(2026, 2, 1) + next(48 * 60) * 60_000 + next(60_000)),
      durationMs: started && status !== 'running' ? 50 + next(40_000) : undefined,
      adapterIds: adapterIds.filter(() => next(3) === 0),
    };
  });
}

describe.each(DIALECTS)('analytics roll-ups on $name', ({ pg }) => {
  const dir = tempDir(pg ? 'rollups-pg' : 'rollups-sqlite');
  let url = '';
  let drop: (() => Promise<void>) | undefined;
  let db: SeedDb;
  let adapterIds: string[] = [];
  const p = (n: number): string => (pg ? `$${n}` : '?');

  /** What the roll-ups should hold, counted from the job, result and link rows. */
  const truth = async () => {
    const jobs = await db.query<Row>(
      'SELECT status, backend_id, created_at, started_at, finished_at FROM generation_jobs',
    );
    const cells = new Map<string, GenerationCell>();
    const at = (v: unknown): Date => (v instanceof Date ? v : new Date(`${String(v).replace(' ', 'T')}Z`));
    for (const job of jobs) {
      const hour = at(job.created_at).toISOString().replace('T', ' ').slice(0, 13);
      const backend = typeof job.backend_id === 'string' ? job.backend_id : '';
      const key = `${hour}/${backend}`;
      if (!cells.has(key)) cells.set(key, emptyCell(hour, backend));
      const timed = job.status === 'succeeded' && job.started_at !== null && job.finished_at !== null;
      addJob(
        cells.get(key)!,
        String(job.status),
        timed ? at(job.finished_at).getTime() - at(job.started_at).getTime() : null,
      );
    }
    const adapters = await db.query<Row>(
      `SELECT ${pg ? `to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')` : 'substr(r.created_at, 1, 10)'} AS day,
         l.adapter_id, COUNT(*) AS images FROM generation_result_adapters l JOIN generation_results r ON r.id = l.result_id
       GROUP BY 1, 2`,
    );
    const pairs = await db.query<Row>(
      `SELECT ${pg ? `to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')` : 'substr(r.created_at, 1, 10)'} AS day,
         x.adapter_id AS a_id, y.adapter_id AS b_id, COUNT(*) AS images FROM generation_result_adapters x
       JOIN generation_result_adapters y ON y.result_id = x.result_id AND x.adapter_id < y.adapter_id
       JOIN generation_results r ON r.id = x.result_id GROUP BY 1, 2, 3`,
    );
    const totals: Record<string, number> = {};
    for (const r of pairs) {
      const key = `${String(r.a_id)}/${String(r.b_id)}`;
      totals[key] = (totals[key] ?? 0) + Number(r.images);
    }
    return { cells: normalCells([...cells.values()]), adapters: keyed(adapters), pairs: keyed(pairs), totals };
  };

  const kept = async () => {
    const cells = (await db.query<Row>('SELECT * FROM generation_stats_hourly')).map((r): GenerationCell => ({
      hour: String(r.hour),
      backend: String(r.backend_id),
      jobs: Number(r.jobs),
      succeeded: Number(r.succeeded),
      failed: Number(r.failed),
      cancelled: Number(r.cancelled),
      timed: Number(r.timed),
      durationMsSum: Number(r.duration_ms_sum),
      durations: parseBins(typeof r.durations === 'string' ? r.durations : JSON.stringify(r.durations)),
    }));
    const adapters = await db.query<Row>('SELECT day, adapter_id, images FROM adapter_usage_daily');
    const pairs = await db.query<Row>('SELECT day, a_id, b_id, images FROM adapter_pair_usage_daily');
    const totals = keyed(
      (await db.query<Row>('SELECT a_id, b_id, images FROM adapter_pair_usage_total')).map((r) => ({ ...r, day: '' })),
    );
    return {
      cells: normalCells(cells),
      adapters: keyed(adapters),
      pairs: keyed(pairs),
      totals: Object.fromEntries(Object.entries(totals).map(([k, n]) => [k.replace(/^\//, ''), n])),
    };
  };

  beforeAll(async () => {
    ({ url, drop } = await createDialectDatabase(pg, 'rollups', dir.path));
    // Rows written before the roll-ups existed are backfilled by the migration.
    await runMigrationsAt(url, [
      ...MIGRATIONS.slice(
        0,
        MIGRATIONS.findIndex((m) => m.name === 'AnalyticsRollups1764300004800'),
      ),
    ]);
    db = await openSeedDb(url);
    adapterIds = await seedAdapters(
      db,
      Array.from({ length: 30 }, (_, k) => adapterSpec(`a${k}`, ['style'])),
    );
    await seedGenerations(db, workload(7, adapterIds, 300));
    await runMigrationsAt(url, [...MIGRATIONS]);
  }, 60_000);

  afterAll(async () => {
    await db?.close();
    await drop?.();
    dir.remove();
  });

  it('should backfill every hour, adapter and pair of the rows already there', async () => {
    const stored = await kept();
    expect(stored.cells.length).toBeGreaterThan(40);
    expect(Object.keys(stored.pairs).length).toBeGreaterThan(5);
    expect(stored).toEqual(await truth());
  });

  it('should stay exact through inserts, finishes, retries, deletes and links written in batches', async () => {
    const ids = await seedGenerations(db, workload(11, adapterIds, 300));
    const time = (d: Date): unknown => (pg ? d : d.toISOString().replace('T', ' ').replace('Z', ''));
    for (const [i, id] of ids.slice(0, 60).entries()) {
      if (i % 3 === 0) {
        await db.exec(
          `UPDATE generation_jobs SET status = 'succeeded', backend_id = 'sdnext-9', started_at = created_at,
             finished_at = ${p(1)} WHERE id = ${p(2)}`,
          [time(new Date(Date.UTC(2026, 2, 3, 12, 0, i))), id],
        );
      } else if (i % 3 === 1) {
        await db.exec(
          `UPDATE generation_jobs SET status = 'queued', started_at = NULL, finished_at = NULL WHERE id = ${p(1)}`,
          [id],
        );
      } else {
        await db.exec(`DELETE FROM generation_jobs WHERE id = ${p(1)}`, [id]);
      }
    }
    // Progress writes leave the roll-up alone (and must not disturb it).
    await db.exec(`UPDATE generation_jobs SET progress = 0.5`, []);
    const results = await db.query<{ id: string }>('SELECT id FROM generation_results ORDER BY id');
    for (const result of results.slice(0, 40)) {
      await db.exec(`DELETE FROM generation_result_adapters WHERE result_id = ${p(1)} AND adapter_id = ${p(2)}`, [
        result.id,
        adapterIds[0],
      ]);
    }
    const values = results.slice(40, 80).flatMap((r) => [r.id, adapterIds[1], r.id, adapterIds[2]]);
    await db.exec(
      `INSERT INTO generation_result_adapters (result_id, adapter_id) VALUES
         ${results
           .slice(40, 80)
           .map((_, i) => `(${p(4 * i + 1)}, ${p(4 * i + 2)}), (${p(4 * i + 3)}, ${p(4 * i + 4)})`)
           .join(', ')}
       ON CONFLICT DO NOTHING`,
      values,
    );
    await db.exec(`DELETE FROM generation_result_adapters WHERE result_id IN (${p(1)}, ${p(2)})`, [
      results[90].id,
      results[91].id,
    ]);
    expect(await kept()).toEqual(await truth());
  });

  it('should find the same top pairs from the totals, the days and the links, for any range', async () => {
    const ds = dataSourceAt(url);
    await ds.initialize();
    try {
      const repository = new AnalyticsRepository(ds);
      const day = (iso: string) =>
        `${pg ? `to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS')` : 'substr(r.created_at, 1, 23)'} ${iso}`;
      const ranges = [
        ['2026-03-01T00:00:00Z', '2026-03-04T00:00:00Z'],
        ['2026-03-01T06:30:00Z', '2026-03-03T18:15:00Z'],
        // Two whole days of three and a partial one: the totals with the partial day's links.
        ['2026-03-01T06:30:00Z', '2026-03-04T00:00:00Z'],
        ['2026-03-02T00:00:00Z', '2026-03-03T00:00:00Z'],
        ['2026-03-01T10:00:00Z', '2026-03-01T11:00:00Z'],
      ];
      for (const [from, to] of ranges) {
        const text = (d: string) => new Date(d).toISOString().replace('T', ' ').replace('Z', '');
        const expected = await db.query<Row>(
          `SELECT x.adapter_id AS a_id, y.adapter_id AS b_id, COUNT(*) AS images FROM generation_result_adapters x
           JOIN generation_result_adapters y ON y.result_id = x.result_id AND x.adapter_id < y.adapter_id
           JOIN generation_results r ON r.id = x.result_id
           WHERE ${day(`>= ${p(1)}`)} AND ${day(`< ${p(2)}`)}
           GROUP BY x.adapter_id, y.adapter_id ORDER BY images DESC, a_id, b_id LIMIT 10`,
          [text(from), text(to)],
        );
        const found = await repository.topPairs({ from: new Date(from), to: new Date(to) }, 10);
        expect(found.map((f) => [f.adapters[0].adapterId, f.adapters[1].adapterId, f.images])).toEqual(
          expected.map((e) => [String(e.a_id), String(e.b_id), Number(e.images)]),
        );
      }
    } finally {
      await ds.destroy();
    }
  });
});

/** Cells in key order, their bins summed per bin without zero counts. */
function normalCells(cells: GenerationCell[]) {
  return cells
    .filter((c) => c.jobs !== 0)
    .map((c) => {
      const bins = new Map<number, number>();
      for (let i = 0; i < c.durations.length; i += 2) {
        bins.set(c.durations[i], (bins.get(c.durations[i]) ?? 0) + c.durations[i + 1]);
      }
      return { ...c, durations: [...bins].filter(([, n]) => n !== 0).sort((a, b) => a[0] - b[0]) };
    })
    .sort((a, b) => `${a.hour}/${a.backend}`.localeCompare(`${b.hour}/${b.backend}`));
}

/** `day/ids… → images`, zero counts left out. */
function keyed(rows: Row[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rows) {
    const n = Number(r.images);
    if (n !== 0) out[[r.day, r.adapter_id ?? r.a_id, r.b_id].filter((v) => typeof v === 'string').join('/')] = n;
  }
  return out;
}
