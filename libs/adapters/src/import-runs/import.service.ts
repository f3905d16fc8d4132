import { readdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, InvalidInputError, errorMessage } from '@app/core';
import type { ScannedFile } from '../reading/scanner.js';
import type { AdapterEntity } from '../library/adapter.entity.js';
import { AdapterQueryRepository } from '../library/adapter-query.repository.js';
import { AdapterRepository } from '../library/adapter.repository.js';
import { LibraryRoots } from '../library/library-roots.js';
import { type ImportHooks, ImportPass, type ImportTarget } from './import-pass.js';
import type { ImportOptions, ImportReport } from './import-report.js';
import { HashPolicy } from './import-run.entity.js';
import { inspectToRow } from './inspect-task.js';

/** Changed rows after which an import refreshes the query planner's statistics (ANALYZE). */
const STATISTICS_AFTER_CHANGES = 1000;

/**
 * Imports library roots with smart resync: an unchanged file (same size and mtime, same sidecars) costs a
 * `stat`; a changed one is re-read; a moved one (same content) keeps its id and user fields; a vanished one
 * becomes a tombstone, restored if it comes back. Rows are written in batched transactions, and tombstones
 * only at the end, so a run killed halfway leaves a consistent index that the next run completes. Each run is
 * one `ImportPass`.
 */
@Injectable()
export class ImportService {
  private readonly logger = new Logger(ImportService.name);

  constructor(
    private readonly roots: LibraryRoots,
    private readonly adapters: AdapterRepository,
    private readonly queries: AdapterQueryRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async run(options: ImportOptions = {}, hooks: ImportHooks = {}): Promise<ImportReport> {
    const started = Date.now();
    const targets = await this.targets(options.paths ?? []);
    const settings = {
      dryRun: options.dryRun ?? false,
      force: options.forceResync ?? false,
      policy: options.hash ?? HashPolicy.Lazy,
      // A file that an ignore glob hides is not seen, so a row it had becomes a tombstone like any vanished file.
      ignore: [...this.config.loraIgnore, ...(options.ignore ?? [])],
      syncIo: options.syncIo ?? false,
      workers: options.workers ?? this.config.importWorkers,
      now: new Date(),
    };
    const report = await new ImportPass(this.adapters, settings, hooks, this.logger).run(targets);

    // After a big change the planner's statistics are stale; refresh them so searches keep their fast plans.
    const { counts } = report;
    const changed = counts.added + counts.updated + counts.moved + counts.missing + counts.restored;
    if (!report.dryRun && changed >= STATISTICS_AFTER_CHANGES) {
      await this.queries.refreshStatisticsAfter(changed).catch((error: unknown) => {
        this.logger.warn(`Could not refresh planner statistics: ${errorMessage(error)}`);
      });
    }
    report.durationMs = Date.now() - started;
    this.logger.log(
      `Import ${report.dryRun ? '(dry run) ' : ''}done in ${report.durationMs} ms: ${Object.entries(counts)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
    return report;
  }

  /**
   * Registers (or re-reads) one file given by path, which must resolve inside a library root. A file that
   * cannot be read as a LoRA is a 400 with the reason; nothing is written then.
   */
  async registerFile(
    path: string,
    policy: HashPolicy = HashPolicy.Full,
  ): Promise<{ adapter: AdapterEntity; created: boolean }> {
    const resolved = await this.roots.resolveInside(path, 'path');
    if (!resolved.relativePath.toLowerCase().endsWith('.safetensors')) {
      throw InvalidInputError.field('path', 'must be a .safetensors file', 'not_a_lora_file');
    }
    const st = await stat(resolved.absPath);
    if (!st.isFile()) throw InvalidInputError.field('path', 'must be a file', 'not_a_lora_file');
    const dir = dirname(resolved.absPath);
    const listing = (await readdir(dir, { withFileTypes: true })).filter((e) => !e.isDirectory()).map((e) => e.name);
    const file: ScannedFile = {
      type: 'file',
      absPath: resolved.absPath,
      relPath: resolved.relativePath,
      name: resolved.absPath.slice(dir.length + 1),
      size: st.size,
      mtimeMs: st.mtimeMs,
      dev: st.dev,
      ino: st.ino,
      viaSymlink: false,
      dirListing: listing,
    };
    const state = await this.adapters.fileStateAt(resolved.root.id, resolved.relativePath);
    const existing = state ? (await this.adapters.snapshotsByIds([state.id]))[0] : undefined;
    const { row, failures } = await inspectToRow(
      { file, root: resolved.root, existing, hash: policy === HashPolicy.Full },
      new Date(),
      false,
    );
    if (!row) {
      const reasons = failures.map((f) => f.reason).join('; ');
      throw InvalidInputError.field('path', `cannot be read as a LoRA: ${reasons}`, 'unreadable_lora');
    }
    await this.adapters.writeBatch([row]);
    return { adapter: row, created: !state };
  }

  private async targets(paths: string[]): Promise<ImportTarget[]> {
    const roots = this.roots.list();
    if (paths.length === 0) return roots.map((root) => ({ root, dir: root.realPath, prefix: '' }));
    const out: ImportTarget[] = [];
    for (const [i, p] of paths.entries()) {
      const resolved = await this.roots.resolveInside(p, `paths[${i}]`);
      out.push({ root: resolved.root, dir: resolved.absPath, prefix: resolved.relativePath });
    }
    return out;
  }
}
