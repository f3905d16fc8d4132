import { InvalidInputError } from '@app/core';

/** What every archive says it is; an archive of another format version is refused, never guessed at. */
export const ARCHIVE_FORMAT = 'lora-manager-archive';
export const ARCHIVE_FORMAT_VERSION = 1;

/** Where each part lives inside the ZIP. Rows are NDJSON, one row a line, streamed page by page. */
export const ArchiveEntry = {
  Manifest: 'manifest.json',
  Adapters: 'data/adapters.ndjson',
  Results: 'data/results.ndjson',
  ResultAdapters: 'data/result-adapters.ndjson',
  Deliveries: 'data/deliveries.ndjson',
  Recipes: 'data/recipes.ndjson',
} as const;

/** Library files live under `files/<archive root id>/<relative path>`, result images under `results/<storage key>`. */
export const FILES_PREFIX = 'files/';
export const RESULT_FILES_PREFIX = 'results/';

/** The tables an archive carries besides adapters, in the order they are written and read. */
export enum ArchiveTable {
  Results = 'generation_results',
  ResultAdapters = 'generation_result_adapters',
  Deliveries = 'delivery_jobs',
  Recipes = 'recipes',
}

export const TABLE_ENTRIES: Record<ArchiveTable, string> = {
  [ArchiveTable.Results]: ArchiveEntry.Results,
  [ArchiveTable.ResultAdapters]: ArchiveEntry.ResultAdapters,
  [ArchiveTable.Deliveries]: ArchiveEntry.Deliveries,
  [ArchiveTable.Recipes]: ArchiveEntry.Recipes,
};

export interface ArchiveCounts {
  adapters: number;
  results: number;
  resultAdapters: number;
  deliveries: number;
  /** Null when the exporting database had no recipes table. */
  recipes: number | null;
  /** Files carried (LoRA files, sidecars, previews, result images); 0 without `withFiles`. */
  files: number;
  fileBytes: number;
}

export interface ArchiveRoot {
  id: string;
  path: string;
}

export interface ArchiveManifest {
  format: string;
  formatVersion: number;
  productVersion: string;
  createdAt: string;
  sourceDatabase: string;
  withFiles: boolean;
  roots: ArchiveRoot[];
  counts: ArchiveCounts;
}

/** Checks a parsed manifest: the format and its version first, so another version gets the message that says so. */
export function checkManifest(value: unknown): ArchiveManifest {
  const bad = (message: string, code = 'archive_manifest_invalid') => new InvalidInputError(code, message);
  if (typeof value !== 'object' || value === null) throw bad('manifest.json is not a JSON object');
  const m = value as Partial<ArchiveManifest>;
  if (m.format !== ARCHIVE_FORMAT) throw bad(`manifest.json is not a ${ARCHIVE_FORMAT} manifest`);
  if (m.formatVersion !== ARCHIVE_FORMAT_VERSION) {
    throw bad(
      `The archive has format version ${String(m.formatVersion)}; this LoRA Manager reads version ${ARCHIVE_FORMAT_VERSION} only` +
        ' (export it again with a matching release)',
      'archive_version_unsupported',
    );
  }
  if (!Array.isArray(m.roots) || !m.roots.every((r) => typeof r?.id === 'string' && typeof r?.path === 'string')) {
    throw bad('manifest.json: roots must be a list of {id, path}');
  }
  if (typeof m.counts !== 'object' || m.counts === null) throw bad('manifest.json: counts missing');
  return m as ArchiveManifest;
}

/**
 * Why an entry name is unsafe to extract, or null. Names are relative, `/`-separated, without `..`, `.` or empty
 * segments, backslashes, drive letters or control characters.
 */
export function entryNameProblem(name: string): string | null {
  if (name.length === 0 || name.length > 4096) return 'has an empty or too long name';
  if (name.includes('\\')) return 'uses a backslash';
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return 'is an absolute path';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f]/.test(name)) return 'has a control character in its name';
  const segments = name.replace(/\/$/, '').split('/');
  if (segments.some((s) => s === '..')) return 'leaves the archive (..)';
  if (segments.some((s) => s === '' || s === '.')) return 'has an empty or "." path segment';
  return null;
}
