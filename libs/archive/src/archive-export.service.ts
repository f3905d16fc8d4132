import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Readable } from 'node:stream';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { LibraryRoots, mapLimit } from '@app/adapters';
import {
  APP_CONFIG,
  type AppConfig,
  errorMessage,
  FileStorage,
  productVersion,
  type ZipEntryOptions,
  ZipWriter,
} from '@app/core';
import {
  ARCHIVE_FORMAT,
  ARCHIVE_FORMAT_VERSION,
  ArchiveEntry,
  type ArchiveCounts,
  type ArchiveManifest,
  ArchiveTable,
  FILES_PREFIX,
  RESULT_FILES_PREFIX,
  TABLE_ENTRIES,
} from './archive-format.js';
import { type AdapterFileFields, type ArchiveRow, ArchiveRepository } from './archive.repository.js';

const PAGE_SIZE = 500;
/** Preview files measured at once by an estimate (file-system calls run on Node's thread pool). */
const PREVIEW_STATS = 16;

export interface ArchiveEstimate {
  adapters: number;
  results: number;
  deliveries: number;
  /** Null when this database has no recipes. */
  recipes: number | null;
  /** Files an export with files would carry, and their bytes. */
  files: number;
  fileBytes: number;
}

type AddEntry = (name: string, source: Readable, options?: ZipEntryOptions) => Promise<void>;

/** One library file of an adapter: the LoRA itself, a sidecar or a preview, relative to its root. */
interface LibraryFileRef {
  rootId: string;
  relativePath: string;
}

/** Tables exported as NDJSON after the adapters, with the count each adds to the manifest. */
const TABLE_COUNTS: [ArchiveTable, Exclude<keyof ArchiveCounts, 'adapters' | 'files' | 'fileBytes'>][] = [
  [ArchiveTable.Results, 'results'],
  [ArchiveTable.ResultAdapters, 'resultAdapters'],
  [ArchiveTable.Deliveries, 'deliveries'],
  [ArchiveTable.Recipes, 'recipes'],
];

/** Every present adapter's files: the LoRA, its sidecars and its preview file. */
function filesOf(adapter: AdapterFileFields): LibraryFileRef[] {
  if (adapter.missingSince) return [];
  const inFolder = (name: string) => (adapter.folder ? `${adapter.folder}/${name}` : name);
  const paths = [adapter.relativePath, ...adapter.sidecars.map((s) => inFolder(s.fileName))];
  if (adapter.previewPath) paths.push(adapter.previewPath);
  return [...new Set(paths)].map((relativePath) => ({ rootId: adapter.rootId, relativePath }));
}

/**
 * Writes the library as a ZIP, streaming: rows a page at a time as NDJSON, files one at a time through their
 * streams, and the manifest last (with the counts actually written). The archive is never held in memory.
 */
@Injectable()
export class ArchiveExportService {
  private readonly logger = new Logger(ArchiveExportService.name);

  constructor(
    private readonly repository: ArchiveRepository,
    private readonly roots: LibraryRoots,
    private readonly storage: FileStorage,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * What an export would hold, quickly enough for a page to show on opening (a visit to each of 220,000 files took
   * 14 s at 100,000 adapters): LoRA files and sidecars by the sizes their rows recorded at the last import, previews
   * (no size recorded) measured, result images by their rows. A file changed or gone since the last import is
   * counted as it was; the export itself reads each file.
   */
  async estimate(): Promise<ArchiveEstimate> {
    const library = await this.repository.recordedLibraryFiles();
    const results = await this.repository.resultFiles();
    let files = library.files + results.files;
    let fileBytes = library.bytes + results.bytes;
    // Previews not already counted as one of their adapter's other files.
    const previews = (await this.repository.previewedAdapters()).filter(
      (a) => !filesOf({ ...a, previewPath: null }).some((f) => f.relativePath === a.previewPath),
    );
    await mapLimit(previews, PREVIEW_STATS, async ({ rootId, previewPath }) => {
      const root = this.roots.byId(rootId);
      const size =
        root && previewPath
          ? await stat(resolve(root.realPath, previewPath)).then(
              (s) => s.size,
              () => null,
            )
          : null;
      if (size === null) return;
      files++;
      fileBytes += size;
    });
    return {
      adapters: await this.repository.count('adapters'),
      results: await this.repository.count(ArchiveTable.Results),
      deliveries: await this.repository.count(ArchiveTable.Deliveries),
      recipes: this.repository.hasTable(ArchiveTable.Recipes)
        ? await this.repository.count(ArchiveTable.Recipes)
        : null,
      files,
      fileBytes,
    };
  }

  /**
   * The archive as a stream; a failure part way destroys it with the error (a download then ends short). A reader
   * that goes away (a download cancelled) destroys it too: the entry being written fails and its file is closed.
   */
  export(options: { withFiles: boolean }): Readable {
    const zip = new ZipWriter();
    this.feed(zip, options.withFiles).catch((error: unknown) => {
      this.logger.error(`Export failed: ${errorMessage(error)}`);
      zip.abort(error);
    });
    return zip.output;
  }

  private async feed(zip: ZipWriter, withFiles: boolean): Promise<void> {
    // One entry at a time, so at most one source is open.
    const add: AddEntry = (name, source, options) => zip.add(name, source, options);
    const counts: ArchiveCounts = {
      adapters: 0,
      results: 0,
      resultAdapters: 0,
      deliveries: 0,
      recipes: null,
      files: 0,
      fileBytes: 0,
    };
    const adapterRows = this.ndjson(this.repository.adapterPages(PAGE_SIZE), (n) => (counts.adapters += n));
    await add(ArchiveEntry.Adapters, adapterRows);
    for (const [table, key] of TABLE_COUNTS) {
      if (!this.repository.hasTable(table)) continue;
      counts[key] = 0;
      const rows = this.ndjson(
        this.repository.rowPages(table, PAGE_SIZE),
        (n) => (counts[key] = (counts[key] ?? 0) + n),
      );
      await add(TABLE_ENTRIES[table], rows);
    }
    if (withFiles) await this.addFiles(add, counts);
    const manifest: ArchiveManifest = {
      format: ARCHIVE_FORMAT,
      formatVersion: ARCHIVE_FORMAT_VERSION,
      productVersion: productVersion(),
      createdAt: new Date().toISOString(),
      sourceDatabase: this.config.database.type,
      withFiles,
      roots: this.roots.list().map((r) => ({ id: r.id, path: r.path })),
      counts,
    };
    await zip.add(ArchiveEntry.Manifest, Buffer.from(JSON.stringify(manifest, null, 2)));
    zip.finish();
  }

  private async addFiles(add: AddEntry, counts: ArchiveCounts): Promise<void> {
    for await (const page of this.repository.adapterPages(PAGE_SIZE)) {
      for (const ref of page.flatMap(filesOf)) {
        // Opened inside its root (symlinks checked); a file gone since the last import is left out.
        const opened = await this.roots.openInside(ref.rootId, ref.relativePath);
        if (!opened) continue;
        counts.files++;
        counts.fileBytes += opened.stats.size;
        const name = `${FILES_PREFIX}${ref.rootId}/${ref.relativePath}`;
        await add(name, opened.fh.createReadStream(), { mtime: opened.stats.mtime, compress: false });
      }
    }
    for await (const page of this.repository.rowPages(ArchiveTable.Results, PAGE_SIZE)) {
      for (const row of page) {
        const key = String(row.storageKey);
        const stored = await this.storage.open(key);
        if (!stored) continue;
        counts.files++;
        counts.fileBytes += stored.size;
        await add(`${RESULT_FILES_PREFIX}${key}`, stored.stream, { compress: false });
      }
    }
  }

  /** Rows as NDJSON, one page read at a time, as the ZIP asks for bytes. */
  private ndjson(pages: AsyncIterable<object[]>, onRows: (n: number) => void): Readable {
    return Readable.from(
      (async function* () {
        for await (const page of pages) {
          onRows(page.length);
          yield page.map((row: object | ArchiveRow) => JSON.stringify(row)).join('\n') + '\n';
        }
      })(),
    );
  }
}
