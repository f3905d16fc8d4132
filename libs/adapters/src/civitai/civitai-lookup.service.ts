import { readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Injectable } from '@nestjs/common';
import { ConflictError, NotFoundError } from '@app/core';
import type { FileHashes } from '../reading/hasher.js';
import type { ScannedFile } from '../reading/scanner.js';
import { companionsOf, indexDirListing, stemOf } from '../reading/sidecars.js';
import { inspectToRow } from '../import-runs/inspect-task.js';
import { AdapterRepository, type AdapterSnapshot } from '../library/adapter.repository.js';
import { LibraryRoots } from '../library/library-roots.js';
import { CivitaiPort } from './civitai.port.js';
import { CivitaiSidecarWriter } from './civitai-sidecars.js';

export interface CivitaiLookupResult {
  adapterId: string;
  /** Civitai knows the file (by its SHA-256). */
  found: boolean;
  modelId: number | null;
  versionId: number | null;
  /** When Civitai gave the answer (earlier than now when it came from the cache). */
  fetchedAt: Date;
  cached: boolean;
}

const numberOr = (value: unknown): number | null =>
  typeof value === 'number' && Number.isInteger(value) ? value : null;

/**
 * Looks adapters up on Civitai by their file's SHA-256 and keeps the answer on the adapter, where every read of the
 * file merges it like a `.civitai.info` beside it (the user's edits still win; "not on Civitai" is an empty answer,
 * as Civitai Helper's `{}` file says it).
 */
@Injectable()
export class CivitaiLookupService {
  constructor(
    private readonly adapters: AdapterRepository,
    private readonly roots: LibraryRoots,
    private readonly civitai: CivitaiPort,
    private readonly sidecars: CivitaiSidecarWriter,
  ) {}

  async lookup(id: string, signal?: AbortSignal): Promise<CivitaiLookupResult> {
    const [snapshot] = await this.adapters.snapshotsByIds([id]);
    if (!snapshot) throw new NotFoundError('Adapter', id);
    if (snapshot.missingSince !== null)
      throw new ConflictError('adapter_missing', `Adapter ${id}: its file is missing`);
    if (!snapshot.sha256Verified || !snapshot.sha256) {
      throw new ConflictError(
        'hash_not_computed',
        `Adapter ${id}: its file's SHA-256 has not been computed yet; start a hash run (POST /api/v1/hashes/runs) first`,
      );
    }
    const answer = await this.civitai.versionByHash(snapshot.sha256, signal);
    const remote = answer.value ?? {};
    await this.store(snapshot, remote, new Date());
    return {
      adapterId: id,
      found: answer.value !== null,
      modelId: numberOr(remote.modelId),
      versionId: numberOr(remote.id),
      fetchedAt: answer.fetchedAt,
      cached: answer.cached,
    };
  }

  /**
   * Reads the adapter's file again with Civitai's answer (null: none) beside its sidecars, and writes the row; with
   * `CIVITAI_WRITE_SIDECARS` a found version's `.civitai.info` and preview are written beside the file first.
   */
  async store(snapshot: AdapterSnapshot, remote: Record<string, unknown> | null, now: Date): Promise<void> {
    const root = this.roots.list().find((r) => r.id === snapshot.rootId);
    if (!root)
      throw new ConflictError('root_not_configured', `Adapter ${snapshot.id}: its library root is not configured`);
    const absPath = join(root.realPath, snapshot.relativePath);
    const st = await stat(absPath).catch(() => null);
    if (!st?.isFile() || st.size !== snapshot.fileSize || st.mtimeMs !== snapshot.fileMtimeMs) {
      throw new ConflictError(
        'file_changed',
        `Adapter ${snapshot.id}: its file changed since it was indexed; import it again first`,
      );
    }
    await this.sidecars.write(root.realPath, absPath, remote, snapshot.civitaiRemote);
    const names = (await readdir(dirname(absPath), { withFileTypes: true }))
      .filter((e) => !e.isDirectory())
      .map((e) => e.name);
    const fileName = absPath.slice(dirname(absPath).length + 1);
    const file: ScannedFile = {
      type: 'file',
      absPath,
      relPath: snapshot.relativePath,
      name: fileName,
      size: st.size,
      mtimeMs: st.mtimeMs,
      dev: st.dev,
      ino: st.ino,
      viaSymlink: false,
      dirListing: companionsOf(indexDirListing(names), stemOf(fileName)),
    };
    const hashes: FileHashes = {
      size: snapshot.fileSize,
      sha256: snapshot.sha256!,
      autoV2: snapshot.autoV2 ?? snapshot.sha256!.slice(0, 10),
      autoV1: snapshot.autoV1 ?? '',
      autoV3: snapshot.autoV3 ?? undefined,
    };
    const existing = { ...snapshot, civitaiRemote: remote, civitaiCheckedAt: now };
    const outcome = await inspectToRow({ file, root, existing, hashes, hash: false }, now, false);
    if (!outcome.row) {
      throw new ConflictError('unreadable_lora', outcome.failures.map((f) => f.reason).join('; ') || 'unreadable');
    }
    await this.adapters.writeBatch([outcome.row]);
  }
}
