// Writes generation results straight into the database and their image files into the storage folder, many at a
// time: for export, retention and storage-check tests and the export benchmark (no SD.Next round trip per image).
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface SeedResult {
  id?: string;
  createdAt?: Date;
  rating?: number;
  favorite?: boolean;
  prompt?: string;
  backendId?: string;
  /** The image bytes (written to storage); `null` writes the row only (a result whose file is gone). */
  image?: Buffer | null;
}

export interface SeededResult {
  id: string;
  jobId: string;
  storageKey: string;
  bytes: number;
  createdAt: Date;
}

/** Every column of `generation_results`, in the order the seeders give values. */
export const RESULT_COLUMNS = [
  'id',
  'job_id',
  'image_index',
  'storage_key',
  'format',
  'content_type',
  'width',
  'height',
  'bytes',
  'seed',
  'request',
  'prompt',
  'negative_prompt',
  'loras',
  'model',
  'backend_id',
  'started_at',
  'finished_at',
  'duration_ms',
  'rating',
  'favorite',
  'tags',
  'notes',
  'created_at',
  'updated_at',
];

/**
 * Inserts the results (PNG files under `generations/<jobId>/0.png`), 100 rows per statement. `query` runs one
 * statement with `$n` (PostgreSQL) or `?` (SQLite) placeholders.
 */
export async function seedResultRows(
  query: (sql: string, params: unknown[]) => Promise<unknown>,
  pg: boolean,
  storageDir: string,
  specs: SeedResult[],
  fallbackImage: Buffer,
): Promise<SeededResult[]> {
  const ts = (d: Date): string => (pg ? d.toISOString() : d.toISOString().replace('T', ' ').replace('Z', ''));
  const out: SeededResult[] = [];
  for (let from = 0; from < specs.length; from += 100) {
    const rows: unknown[][] = [];
    for (const spec of specs.slice(from, from + 100)) {
      const id = spec.id ?? randomUUID();
      const jobId = randomUUID();
      const storageKey = `generations/${jobId}/0.png`;
      const image = spec.image === undefined ? fallbackImage : spec.image;
      const bytes = image?.length ?? fallbackImage.length;
      if (image) {
        const path = join(storageDir, storageKey);
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, image);
      }
      const created = spec.createdAt ?? new Date();
      const prompt = spec.prompt ?? `seeded ${out.length + rows.length}`;
      rows.push([
        id,
        jobId,
        0,
        storageKey,
        'png',
        'image/png',
        1,
        1,
        bytes,
        1234,
        JSON.stringify({ prompt, steps: 20 }),
        prompt,
        null,
        '[]',
        'model',
        spec.backendId ?? 'sdnext-0',
        ts(created),
        ts(created),
        100,
        spec.rating ?? 0,
        pg ? (spec.favorite ?? false) : spec.favorite ? 1 : 0,
        '[]',
        null,
        ts(created),
        ts(created),
      ]);
      out.push({ id, jobId, storageKey, bytes, createdAt: created });
    }
    let n = 0;
    const values = rows.map((r) => `(${r.map(() => (pg ? `$${++n}` : '?')).join(', ')})`).join(', ');
    await query(`INSERT INTO generation_results (${RESULT_COLUMNS.join(', ')}) VALUES ${values}`, rows.flat());
  }
  return out;
}
