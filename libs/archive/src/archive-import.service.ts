import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { link, mkdir, realpath, rm, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { type AdapterEntity, AdapterUserField, type LibraryRoot, LibraryRoots } from '@app/adapters';
import { APP_CONFIG, type AppConfig, ConflictError, FileStorage, InvalidInputError } from '@app/core';
import { compareUserFields, ConflictPolicy, fieldsToApply, mergedColumns, MergeOutcome } from './adapter-merge.js';
import {
  ArchiveEntry,
  type ArchiveManifest,
  type ArchiveRoot,
  ArchiveTable,
  entryNameProblem,
  FILES_PREFIX,
  RESULT_FILES_PREFIX,
  TABLE_ENTRIES,
} from './archive-format.js';
import { ArchiveReader } from './archive-reader.js';
import { type ArchiveRow, type ArchiveWrites, ArchiveRepository } from './archive.repository.js';

const PAGE_SIZE = 500;
/** Conflicts listed one by one in a report; the count covers all of them. */
const MAX_LISTED_CONFLICTS = 100;
const USER_FIELDS = new Set<string>(Object.values(AdapterUserField));

export interface ArchiveImportOptions {
  dryRun: boolean;
  policy: ConflictPolicy;
}

export interface RowCounts {
  added: number;
  existing: number;
}

export interface AdapterConflict {
  archiveId: string;
  localId: string;
  name: string;
  fields: AdapterUserField[];
}

export interface ArchiveImportReport {
  dryRun: boolean;
  policy: ConflictPolicy;
  manifest: Omit<ArchiveManifest, 'roots'>;
  /** Each archive root and the local root its files and adapters go to (null: none, they are skipped). */
  roots: { archiveRootId: string; archivePath: string; localRootId: string | null }[];
  adapters: { added: number; merged: number; conflicts: number; unchanged: number; skipped: number };
  conflicts: AdapterConflict[];
  results: RowCounts;
  resultAdapters: RowCounts;
  deliveries: RowCounts;
  /** Zero when the archive or this database has no recipes. */
  recipes: RowCounts;
  files: { copied: number; existing: number; skipped: number };
}

/** Files written by an import so far, removed again when it fails. */
interface WrittenFiles {
  paths: string[];
  storageKeys: string[];
}

const isInside = (parent: string, child: string) => {
  const rel = relative(parent, child);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
};

/**
 * Reads an archive back: a dry run reports what would be added, merged or conflict; a real run copies the files into
 * library roots first, then writes every row in one transaction. When anything fails, the transaction rolls back
 * and the files it copied are removed again: nothing is left half-written.
 */
@Injectable()
export class ArchiveImportService {
  private readonly logger = new Logger(ArchiveImportService.name);
  private running = false;

  constructor(
    private readonly repository: ArchiveRepository,
    private readonly roots: LibraryRoots,
    private readonly storage: FileStorage,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async importFile(path: string, options: ArchiveImportOptions): Promise<ArchiveImportReport> {
    if (this.running)
      throw new ConflictError('archive_import_running', 'Another archive import is running; try again when it ends');
    this.running = true;
    try {
      const reader = await ArchiveReader.open(path, this.config.archive);
      try {
        return await this.importFrom(reader, options);
      } finally {
        reader.close();
      }
    } finally {
      this.running = false;
    }
  }

  private async importFrom(reader: ArchiveReader, options: ArchiveImportOptions): Promise<ArchiveImportReport> {
    const { roots: archiveRoots, ...manifest } = reader.manifest;
    const rootMap = this.mapRoots(archiveRoots);
    const report: ArchiveImportReport = {
      dryRun: options.dryRun,
      policy: options.policy,
      manifest,
      roots: archiveRoots.map((r) => ({
        archiveRootId: r.id,
        archivePath: r.path,
        localRootId: rootMap.get(r.id)?.id ?? null,
      })),
      adapters: { added: 0, merged: 0, conflicts: 0, unchanged: 0, skipped: 0 },
      conflicts: [],
      results: { added: 0, existing: 0 },
      resultAdapters: { added: 0, existing: 0 },
      deliveries: { added: 0, existing: 0 },
      recipes: { added: 0, existing: 0 },
      files: { copied: 0, existing: 0, skipped: 0 },
    };
    const written: WrittenFiles = { paths: [], storageKeys: [] };
    try {
      await this.copyFiles(reader, rootMap, report, written, options.dryRun);
      const writeRows = (writes: ArchiveWrites | null) => this.importRows(reader, rootMap, report, options, writes);
      if (options.dryRun) await writeRows(null);
      else await this.repository.transaction(writeRows);
    } catch (error) {
      await this.removeWritten(written);
      throw error;
    }
    this.logger.log(
      `Archive ${options.dryRun ? 'dry run' : 'import'}: adapters +${report.adapters.added} merged ${report.adapters.merged} conflicts ${report.adapters.conflicts}, files ${report.files.copied}`,
    );
    return report;
  }

  /** Archive root → local root: the same id (same real path), else the same configured path, else the same position. */
  private mapRoots(archiveRoots: ArchiveRoot[]): Map<string, LibraryRoot> {
    const local = this.roots.list();
    const map = new Map<string, LibraryRoot>();
    archiveRoots.forEach((r, i) => {
      const root =
        this.roots.byId(r.id) ??
        local.find((l) => l.path === r.path) ??
        (archiveRoots.length === local.length ? local[i] : undefined);
      if (root) map.set(r.id, root);
    });
    return map;
  }

  private async copyFiles(
    reader: ArchiveReader,
    rootMap: Map<string, LibraryRoot>,
    report: ArchiveImportReport,
    written: WrittenFiles,
    dryRun: boolean,
  ): Promise<void> {
    for (const name of reader.namesUnder(FILES_PREFIX)) {
      const [rootId, ...rest] = name.slice(FILES_PREFIX.length).split('/');
      const root = rootMap.get(rootId);
      const target = root && rest.length > 0 ? resolve(root.realPath, rest.join('/')) : null;
      if (!root || !target || !isInside(root.realPath, target)) {
        report.files.skipped++;
        continue;
      }
      if (await this.exists(target)) {
        report.files.existing++;
        continue;
      }
      report.files.copied++;
      if (dryRun) continue;
      await this.copyInto(reader, name, root, target, written);
    }
    for (const name of reader.namesUnder(RESULT_FILES_PREFIX)) {
      const key = name.slice(RESULT_FILES_PREFIX.length);
      if (await this.storage.stat(key)) {
        report.files.existing++;
        continue;
      }
      report.files.copied++;
      if (dryRun) continue;
      await this.storage.putStream(key, await reader.open(name));
      written.storageKeys.push(key);
    }
  }

  /**
   * Writes one entry to a new file inside the root: its folder, created or not, must resolve inside the root (a
   * symlinked folder leading out is refused), and the file appears by a hard link that never replaces one.
   */
  private async copyInto(
    reader: ArchiveReader,
    name: string,
    root: LibraryRoot,
    target: string,
    written: WrittenFiles,
  ): Promise<void> {
    const folder = dirname(target);
    await mkdir(folder, { recursive: true });
    const realFolder = await realpath(folder);
    if (realFolder !== root.realPath && !isInside(root.realPath, realFolder)) {
      throw new InvalidInputError(
        'archive_unsafe_entry',
        `Archive entry "${name}" would be written outside its library root`,
      );
    }
    const finalPath = join(realFolder, target.slice(folder.length + 1));
    const temp = join(realFolder, `.${randomUUID()}.archive-part`);
    try {
      await pipeline(await reader.open(name), createWriteStream(temp, { flags: 'wx' }));
      await link(temp, finalPath);
      written.paths.push(finalPath);
    } finally {
      await rm(temp, { force: true });
    }
  }

  private async exists(path: string): Promise<boolean> {
    return stat(path).then(
      () => true,
      () => false,
    );
  }

  private async removeWritten(written: WrittenFiles): Promise<void> {
    for (const path of written.paths) await rm(path, { force: true }).catch(() => undefined);
    for (const key of written.storageKeys) await this.storage.delete(key).catch(() => undefined);
  }

  private async importRows(
    reader: ArchiveReader,
    rootMap: Map<string, LibraryRoot>,
    report: ArchiveImportReport,
    options: ArchiveImportOptions,
    writes: ArchiveWrites | null,
  ): Promise<void> {
    const idMap = await this.importAdapters(reader, rootMap, report, options, writes);
    report.results = await this.importTable(reader, ArchiveTable.Results, writes);
    report.resultAdapters = await this.importTable(reader, ArchiveTable.ResultAdapters, writes, (row) => ({
      ...row,
      adapterId: idMap.get(String(row.adapterId)) ?? row.adapterId,
    }));
    report.deliveries = await this.importTable(reader, ArchiveTable.Deliveries, writes);
    if (reader.has(ArchiveEntry.Recipes) && this.repository.hasTable(ArchiveTable.Recipes)) {
      report.recipes = await this.importTable(reader, ArchiveTable.Recipes, writes, (row) => ({
        ...row,
        loras: Array.isArray(row.loras) ? row.loras.map((lora: unknown) => relinkedLora(lora, idMap)) : row.loras,
      }));
    }
  }

  /** Adds or merges every adapter of the archive; returns archive id → local id. */
  private async importAdapters(
    reader: ArchiveReader,
    rootMap: Map<string, LibraryRoot>,
    report: ArchiveImportReport,
    options: ArchiveImportOptions,
    writes: ArchiveWrites | null,
  ): Promise<Map<string, string>> {
    const idMap = new Map<string, string>();
    const taken = new Set<string>();
    const now = new Date();
    let line = 0;
    for await (const raw of reader.pages<unknown>(ArchiveEntry.Adapters, PAGE_SIZE)) {
      const page: AdapterEntity[] = [];
      for (const value of raw) {
        line++;
        const row = checkAdapterRow(value, line);
        const root = rootMap.get(row.rootId);
        if (!root) {
          report.adapters.skipped++;
          continue;
        }
        page.push({ ...row, rootId: root.id });
      }
      const candidates = await this.repository.candidates(page);
      const localIds = new Set(candidates.map((c) => c.id));
      const added: AdapterEntity[] = [];
      for (const theirs of page) {
        const pathKey = `${theirs.rootId}/${theirs.relativePath}`;
        const mine = matchOf(theirs, candidates);
        if (!mine) {
          if (taken.has(pathKey)) {
            report.adapters.skipped++;
            continue;
          }
          taken.add(pathKey);
          const id = localIds.has(theirs.id) || idMap.has(theirs.id) ? randomUUID() : theirs.id;
          idMap.set(theirs.id, id);
          added.push({ ...theirs, id });
          report.adapters.added++;
          continue;
        }
        idMap.set(theirs.id, mine.id);
        if (taken.has(mine.id)) continue;
        taken.add(mine.id);
        const merge = compareUserFields(mine, theirs);
        if (merge.outcome === MergeOutcome.Conflict) {
          report.adapters.conflicts++;
          if (report.conflicts.length < MAX_LISTED_CONFLICTS) {
            report.conflicts.push({ archiveId: theirs.id, localId: mine.id, name: mine.name, fields: merge.conflicts });
          }
        } else if (merge.outcome === MergeOutcome.Merge) report.adapters.merged++;
        else report.adapters.unchanged++;
        const fields = fieldsToApply(merge, options.policy);
        if (writes && fields.length > 0) {
          const values = mergedColumns(mine, theirs, fields, now);
          await writes.updateAdapter(mine.id, values, fields.includes(AdapterUserField.Tags) ? theirs.tags : undefined);
        }
      }
      if (writes && added.length > 0) await writes.insertAdapters(added);
    }
    return idMap;
  }

  private async importTable(
    reader: ArchiveReader,
    table: ArchiveTable,
    writes: ArchiveWrites | null,
    map: (row: ArchiveRow) => ArchiveRow = (row) => row,
  ): Promise<RowCounts> {
    const counts: RowCounts = { added: 0, existing: 0 };
    const compositeKey = table === ArchiveTable.ResultAdapters;
    for await (const raw of reader.pages<unknown>(TABLE_ENTRIES[table], PAGE_SIZE)) {
      const rows = raw.map((value) => checkRow(value, TABLE_ENTRIES[table], compositeKey)).map(map);
      const existing = compositeKey
        ? new Set<string>()
        : await this.repository.existingIds(
            table,
            rows.map((r) => String(r.id)),
          );
      const fresh = rows.filter((r) => !existing.has(String(r.id)));
      counts.added += fresh.length;
      counts.existing += rows.length - fresh.length;
      if (writes && fresh.length > 0) await writes.insertNew(table, fresh);
    }
    return counts;
  }
}

/** A recipe's LoRA pointing at the local adapter its archive adapter merged with (other entries as they are). */
function relinkedLora(lora: unknown, idMap: Map<string, string>): unknown {
  if (typeof lora !== 'object' || lora === null || !('adapterId' in lora) || typeof lora.adapterId !== 'string') {
    return lora;
  }
  return { ...lora, adapterId: idMap.get(lora.adapterId) ?? lora.adapterId };
}

/** The local adapter an archive row merges with: same verified SHA-256 (the same path first), else same path. */
function matchOf(theirs: AdapterEntity, candidates: AdapterEntity[]): AdapterEntity | undefined {
  const samePath = (c: AdapterEntity) => c.rootId === theirs.rootId && c.relativePath === theirs.relativePath;
  if (theirs.sha256 && theirs.sha256Verified) {
    const byHash = candidates.filter((c) => c.sha256 === theirs.sha256 && c.sha256Verified);
    const found = byHash.find(samePath) ?? byHash.find((c) => !c.missingSince) ?? byHash[0];
    if (found) return found;
  }
  return candidates.find(samePath);
}

const invalidRow = (entry: string, line: number, message: string) =>
  new InvalidInputError('archive_row_invalid', `${entry} line ${line}: ${message}`);

/** An adapter row as the archive holds it, checked for the fields an import relies on. */
function checkAdapterRow(value: unknown, line: number): AdapterEntity {
  const entry = ArchiveEntry.Adapters;
  if (typeof value !== 'object' || value === null) throw invalidRow(entry, line, 'not a JSON object');
  const row = value as Record<string, unknown>;
  for (const key of ['id', 'rootId', 'relativePath', 'name', 'fileName']) {
    if (typeof row[key] !== 'string' || row[key] === '')
      throw invalidRow(entry, line, `${key} must be a non-empty string`);
  }
  const problem = entryNameProblem(row.relativePath as string);
  if (problem) throw invalidRow(entry, line, `relativePath ${problem}`);
  for (const key of ['tags', 'triggerWords', 'trainedWords', 'userEdited', 'sidecars']) {
    if (!Array.isArray(row[key])) throw invalidRow(entry, line, `${key} must be a list`);
  }
  const unknownField = (row.userEdited as unknown[]).find((f) => typeof f !== 'string' || !USER_FIELDS.has(f));
  if (unknownField !== undefined)
    throw invalidRow(entry, line, `userEdited names an unknown field ${JSON.stringify(unknownField)}`);
  return row as unknown as AdapterEntity;
}

function checkRow(value: unknown, entry: string, compositeKey: boolean): ArchiveRow {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalidRow(entry, 0, 'not a JSON object');
  const row = value as ArchiveRow;
  if (!compositeKey && typeof row.id !== 'string') throw invalidRow(entry, 0, 'id must be a string');
  return row;
}
