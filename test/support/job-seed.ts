// Dialect-aware seeding of generation jobs (with their results and adapter links) and deliveries, for the insights
// tests and `bench:analytics`. Times are chosen by the caller so that buckets, durations and percentiles are known.
import { randomUUID } from 'node:crypto';
import { insertRows, type SeedDb } from './adapter-seed.js';

export interface SeedGeneration {
  status: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  backendId: string | null;
  createdAt: Date;
  /** Run time from start to finish; absent: never started. */
  durationMs?: number;
  error?: string;
  /** Library adapters of its one result image (succeeded jobs only). */
  adapterIds?: string[];
}

export interface SeedDelivery {
  mode: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  createdAt: Date;
  error?: string;
}

const time = (db: SeedDb, d: Date): unknown => (db.pg ? d : d.toISOString().replace('T', ' ').replace('Z', ''));

/** Inserts generation jobs, a result per succeeded job and its adapter links; returns the job ids in input order. */
export async function seedGenerations(db: SeedDb, jobs: SeedGeneration[]): Promise<string[]> {
  const jobRows: Record<string, unknown>[] = [];
  const resultRows: Record<string, unknown>[] = [];
  const linkRows: Record<string, unknown>[] = [];
  for (const job of jobs) {
    const id = randomUUID();
    const started = job.durationMs === undefined ? null : new Date(job.createdAt.getTime() + 1000);
    const finished = started && job.durationMs !== undefined ? new Date(started.getTime() + job.durationMs) : null;
    jobRows.push({
      id,
      status: job.status,
      mode: 'queued',
      backend_id: job.backendId,
      request: JSON.stringify({ prompt: 'seeded' }),
      composed_prompt: `seeded prompt ${id.slice(0, 8)}`,
      error: job.error ?? null,
      created_at: time(db, job.createdAt),
      started_at: started ? time(db, started) : null,
      finished_at: finished ? time(db, finished) : null,
      updated_at: time(db, finished ?? job.createdAt),
    });
    if (job.status !== 'succeeded' || !finished) continue;
    const resultId = randomUUID();
    resultRows.push({
      id: resultId,
      job_id: id,
      image_index: 0,
      storage_key: `generations/${id}/0.png`,
      format: 'png',
      content_type: 'image/png',
      bytes: 1000,
      request: JSON.stringify({}),
      prompt: 'seeded',
      loras: JSON.stringify([]),
      backend_id: job.backendId ?? 'sdnext-0',
      started_at: started ? time(db, started) : null,
      finished_at: time(db, finished),
      duration_ms: job.durationMs ?? null,
      tags: JSON.stringify([]),
      created_at: time(db, finished),
      updated_at: time(db, finished),
    });
    for (const adapterId of new Set(job.adapterIds ?? [])) {
      linkRows.push({ result_id: resultId, adapter_id: adapterId, base_model: null });
    }
  }
  await db.transaction(async () => {
    await insertRows(db, 'generation_jobs', jobRows);
    await insertRows(db, 'generation_results', resultRows);
    await insertRows(db, 'generation_result_adapters', linkRows);
  });
  return jobRows.map((r) => r.id as string);
}

export async function seedDeliveries(db: SeedDb, deliveries: SeedDelivery[]): Promise<string[]> {
  const rows = deliveries.map((d) => ({
    id: randomUUID(),
    mode: d.mode,
    prompt: 'seeded delivery',
    params: JSON.stringify({}),
    status: d.status,
    error: d.error ?? null,
    created_at: time(db, d.createdAt),
    updated_at: time(db, d.createdAt),
  }));
  await db.transaction(() => insertRows(db, 'delivery_jobs', rows));
  return rows.map((r) => r.id);
}
