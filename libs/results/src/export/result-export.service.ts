import { Readable } from 'node:stream';
import { Injectable, Logger } from '@nestjs/common';
import {
  chunk,
  errorMessage,
  FileStorage,
  InvalidInputError,
  MetricsService,
  type OpenedObject,
  ZipWriter,
} from '@app/core';
import type { GenerationResultEntity } from '../generation-result.entity.js';
import { GenerationResultRepository } from '../generation-result.repository.js';
import { type ResultListQuery, ResultOrder, ResultSort } from '../result-query.js';

/** The filters of the results list (no sort or paging: an export runs oldest first). */
export type ResultFilters = Omit<ResultListQuery, 'sort' | 'order' | 'limit' | 'cursor'>;

/** What to export: these ids (in this order), or every result the filters match. */
export interface ResultSelection {
  ids?: string[];
  filters?: ResultFilters;
}

export const EXPORT_LIMITS = {
  /** Ids one selection may name; larger exports go by filters. */
  maxIds: 10_000,
  /** Rows read per database round trip. */
  pageSize: 200,
  /** Results whose files are opened ahead of the one being written (open files at most). */
  ahead: 8,
} as const;

export interface ExportEstimate {
  /** Results in the selection. */
  count: number;
  /** Their image bytes as recorded. */
  bytes: number;
  /** About what the archive will weigh: the images (stored, not recompressed) plus metadata and ZIP headers. */
  archiveBytes: number;
}

export interface ResultExport {
  fileName: string;
  count: number;
  /** The ZIP, produced as it is read. */
  stream: Readable;
}

/** A result whose file is being opened ahead of writing it. */
interface OpeningResult {
  row: GenerationResultEntity;
  file: Promise<OpenedObject | null>;
}

function closeWhenOpened({ file }: OpeningResult): void {
  void file.then(
    (opened) => opened?.stream.destroy(),
    () => undefined,
  );
}

/** Per result: local header + data descriptor + central entry of two files, and a metadata JSON after deflate. */
const OVERHEAD_PER_RESULT = 2 * (30 + 24 + 46 + 2 * 48) + 900;

/**
 * Streams a selection of results as a ZIP (ZipWriter): `results/<id>.<ext>` (the stored image, as is) and
 * `results/<id>.json` (its metadata) per result, then `index.json`. Rows are read a page at a time by keyset and each
 * image is streamed from storage while the archive is being read: neither the archive nor the rows are held in memory,
 * only ZIP's central directory (about 1 KB per entry) until the end.
 */
@Injectable()
export class ResultExportService {
  private readonly logger = new Logger(ResultExportService.name);

  constructor(
    private readonly repository: GenerationResultRepository,
    private readonly storage: FileStorage,
    private readonly metrics: MetricsService,
  ) {}

  async estimate(selection: ResultSelection): Promise<ExportEstimate> {
    const pinned = pin(selection);
    let totals = { count: 0, bytes: 0 };
    if (pinned.ids) {
      for (const part of chunk(pinned.ids, 500)) {
        const rows = await this.repository.findByIds(part);
        totals = { count: totals.count + rows.length, bytes: totals.bytes + rows.reduce((n, r) => n + r.bytes, 0) };
      }
    } else {
      totals = await this.repository.totals(pinned.filters ?? {});
    }
    return { ...totals, archiveBytes: totals.bytes + totals.count * OVERHEAD_PER_RESULT + 1024 };
  }

  /**
   * Starts an export; `signal` (the client went away) stops reading rows and files. A selection that matches nothing
   * is refused (`export_empty`) rather than answered with an empty archive.
   */
  async start(selection: ResultSelection, signal: AbortSignal): Promise<ResultExport> {
    const pinned = pin(selection);
    const { count } = await this.estimate(pinned);
    if (count === 0) {
      throw new InvalidInputError('export_empty', 'The selection matches no result: there is nothing to export', [
        { field: pinned.ids ? 'ids' : 'filters', message: 'matches no result' },
      ]);
    }
    const zip = new ZipWriter();
    // The client went away: stop at once, closing the file being written and those opened ahead.
    signal.addEventListener('abort', () => zip.abort(new Error('export cancelled')), { once: true });
    const started = Date.now();
    void this.fill(zip, pinned, signal).then(
      (written) => {
        this.metrics.results.inc({ event: 'exported' }, written);
        this.logger.log(`Exported ${written} result(s) in ${Date.now() - started} ms`);
      },
      (error: unknown) => {
        if (!signal.aborted) this.logger.warn(`Export failed: ${errorMessage(error)}`);
        zip.abort(error);
      },
    );
    const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
    return { fileName: `results-${stamp}.zip`, count, stream: zip.output };
  }

  /**
   * Writes the entries one result at a time while the files of the next `ahead` results are being opened: the
   * reader paces the database and the storage, and a few files are open at once.
   */
  private async fill(zip: ZipWriter, selection: ResultSelection, signal: AbortSignal): Promise<number> {
    const missing = new Set<string>();
    const pending: OpeningResult[] = [];
    let written = 0;
    try {
      for await (const row of this.rows(selection, signal)) {
        const file = this.storage.open(row.storageKey);
        // Awaited a few results later; until then a failure must not count as unhandled.
        file.catch(() => undefined);
        pending.push({ row, file });
        if (pending.length < EXPORT_LIMITS.ahead) continue;
        await this.addResult(zip, pending.shift()!, missing);
        written++;
      }
      while (pending.length > 0 && !signal.aborted) {
        await this.addResult(zip, pending.shift()!, missing);
        written++;
      }
    } finally {
      // Files opened ahead of a failure or a cancelled download are closed, not left to the garbage collector.
      pending.splice(0).forEach(closeWhenOpened);
    }
    if (signal.aborted) throw new Error('export cancelled');
    await zip.add('index.json', Readable.from(this.index(selection, missing, signal)));
    zip.finish();
    return written;
  }

  /** One result's image (when its file is there) and metadata JSON. */
  private async addResult(zip: ZipWriter, { row, file }: OpeningResult, missing: Set<string>): Promise<void> {
    const opened = await file;
    const image = opened ? `results/${row.id}.${extensionOf(row.format)}` : null;
    if (opened) await zip.add(image!, opened.stream, { compress: false, mtime: row.createdAt });
    else missing.add(row.id);
    const metadata = Buffer.from(JSON.stringify(resultMetadata(row, image), null, 2));
    await zip.add(`results/${row.id}.json`, metadata, { mtime: row.createdAt });
  }

  /** `index.json`: one line per result in archive order, written from a second pass over the same selection. */
  private async *index(selection: ResultSelection, missing: Set<string>, signal: AbortSignal): AsyncGenerator<string> {
    yield `{"exportedAt":${JSON.stringify(new Date().toISOString())},"selection":${JSON.stringify(selection.ids ? { ids: selection.ids.length } : (selection.filters ?? {}))},"results":[`;
    let first = true;
    let count = 0;
    for await (const row of this.rows(selection, signal)) {
      const gone = missing.has(row.id);
      const entry = {
        id: row.id,
        image: gone ? null : `results/${row.id}.${extensionOf(row.format)}`,
        metadata: `results/${row.id}.json`,
        createdAt: row.createdAt.toISOString(),
        bytes: row.bytes,
        rating: row.rating,
        favorite: row.favorite,
        ...(gone ? { missing: true } : {}),
      };
      yield `${first ? '' : ','}\n${JSON.stringify(entry)}`;
      first = false;
      count++;
    }
    yield `\n],"count":${count},"missing":${missing.size}}\n`;
  }

  /** The selected rows, a page at a time: by id chunks in the given order, or by keyset oldest first. */
  private async *rows(selection: ResultSelection, signal: AbortSignal): AsyncGenerator<GenerationResultEntity> {
    if (selection.ids) {
      for (const part of chunk(selection.ids, EXPORT_LIMITS.pageSize)) {
        if (signal.aborted) return;
        const byId = new Map((await this.repository.findByIds(part)).map((r) => [r.id, r]));
        for (const id of part) {
          const row = byId.get(id);
          if (row) yield row;
        }
      }
      return;
    }
    let cursor: string | undefined;
    do {
      if (signal.aborted) return;
      const page = await this.repository.list({
        ...selection.filters,
        sort: ResultSort.CreatedAt,
        order: ResultOrder.Asc,
        limit: EXPORT_LIMITS.pageSize,
        cursor,
      });
      yield* page.items;
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
  }
}

/** Ids deduplicated (first place kept); filters bounded at now, so rows made during the export stay out of it. */
function pin(selection: ResultSelection): ResultSelection {
  if (selection.ids) return { ids: [...new Set(selection.ids.map((id) => id.toLowerCase()))] };
  const filters = { ...selection.filters };
  const now = new Date();
  if (!filters.to || filters.to > now) filters.to = now;
  return { filters };
}

function extensionOf(format: string): string {
  return format === 'jpeg' ? 'jpg' : format;
}

/** The metadata JSON of one exported result: everything the row knows, and where its image is in the archive. */
export function resultMetadata(row: GenerationResultEntity, image: string | null): Record<string, unknown> {
  return {
    id: row.id,
    image,
    jobId: row.jobId,
    imageIndex: row.imageIndex,
    format: row.format,
    contentType: row.contentType,
    width: row.width,
    height: row.height,
    bytes: row.bytes,
    seed: row.seed,
    prompt: row.prompt,
    negativePrompt: row.negativePrompt,
    loras: row.loras,
    model: row.model,
    backendId: row.backendId,
    request: row.request,
    startedAt: row.startedAt?.toISOString() ?? null,
    finishedAt: row.finishedAt.toISOString(),
    durationMs: row.durationMs,
    rating: row.rating,
    favorite: row.favorite,
    tags: row.tags,
    notes: row.notes,
    createdAt: row.createdAt.toISOString(),
  };
}
