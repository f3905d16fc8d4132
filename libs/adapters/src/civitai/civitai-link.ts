import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { ConflictError, InvalidInputError, NotFoundError } from '@app/core';
import type { DataSource } from 'typeorm';
import { AdapterRepository, type AdapterSnapshot } from '../library/adapter.repository.js';
import { CivitaiPort, type CivitaiJson } from './civitai.port.js';
import { CivitaiLookupService } from './civitai-lookup.service.js';
import { parseCivitaiReference } from './civitai-reference.js';
import { CivitaiUpdateEntity } from './civitai-runs.entity.js';

export interface CivitaiLinkResult {
  adapterId: string;
  modelId: number | null;
  versionId: number;
  /** The version's files include one with this file's SHA-256. */
  hashMatches: boolean;
}

const versionsOf = (model: CivitaiJson): CivitaiJson[] =>
  Array.isArray(model.modelVersions) ? (model.modelVersions as CivitaiJson[]) : [];

/** True when one of the version's files declares this SHA-256 (any case). */
export function versionHasHash(version: CivitaiJson, sha256: string | null): boolean {
  if (!sha256) return false;
  const files = Array.isArray(version.files) ? (version.files as CivitaiJson[]) : [];
  return files.some((f) => {
    const hashes = (f.hashes ?? {}) as Record<string, unknown>;
    return typeof hashes.SHA256 === 'string' && hashes.SHA256.toLowerCase() === sha256.toLowerCase();
  });
}

/**
 * Manual links: attaches an adapter to a Civitai version a user names (a version id, a model or version URL, an AIR)
 * when Civitai does not know the file's hash (merged or re-uploaded files). The version is stored like a lookup's
 * answer, so the user's own edits still win; unlinking forgets it.
 */
@Injectable()
export class CivitaiLinkService {
  constructor(
    private readonly adapters: AdapterRepository,
    private readonly lookups: CivitaiLookupService,
    private readonly civitai: CivitaiPort,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  /** A model-only reference takes the version whose file has this file's hash, else the model's newest version. */
  async link(id: string, reference: string, signal?: AbortSignal): Promise<CivitaiLinkResult> {
    const ref = parseCivitaiReference(reference, 'reference');
    const snapshot = await this.snapshot(id);
    let versionId = ref.versionId;
    if (versionId === null) {
      const model = (await this.civitai.model(ref.modelId!, signal)).value;
      if (!model) throw new NotFoundError('Civitai model', String(ref.modelId), 'civitai_not_found');
      const versions = versionsOf(model).filter((v) => typeof v.id === 'number');
      const chosen = versions.find((v) => versionHasHash(v, snapshot.sha256)) ?? versions[0];
      if (!chosen) throw new ConflictError('civitai_no_versions', `Civitai model ${ref.modelId} has no versions`);
      versionId = chosen.id as number;
    }
    const version = (await this.civitai.version(versionId, signal)).value;
    if (!version) throw new NotFoundError('Civitai version', String(versionId), 'civitai_not_found');
    const modelId = typeof version.modelId === 'number' ? version.modelId : null;
    if (ref.modelId !== null && modelId !== null && modelId !== ref.modelId) {
      throw InvalidInputError.field(
        'reference',
        `version ${versionId} belongs to model ${modelId}, not ${ref.modelId}`,
      );
    }
    await this.lookups.store(snapshot, version, new Date());
    await this.forgetUpdates(id);
    return { adapterId: id, modelId, versionId, hashMatches: versionHasHash(version, snapshot.sha256) };
  }

  /** Forgets Civitai's answer (a `.civitai.info` beside the file still says what it says). */
  async unlink(id: string): Promise<void> {
    const snapshot = await this.snapshot(id);
    await this.lookups.store(snapshot, null, new Date());
    await this.forgetUpdates(id);
  }

  private async snapshot(id: string): Promise<AdapterSnapshot> {
    const [snapshot] = await this.adapters.snapshotsByIds([id]);
    if (!snapshot) throw new NotFoundError('Adapter', id);
    if (snapshot.missingSince !== null)
      throw new ConflictError('adapter_missing', `Adapter ${id}: its file is missing`);
    if (!snapshot.sha256) {
      throw new ConflictError(
        'hash_not_computed',
        `Adapter ${id}: its file's SHA-256 has not been computed yet; start a hash run (POST /api/v1/hashes/runs) first`,
      );
    }
    return snapshot;
  }

  private async forgetUpdates(id: string): Promise<void> {
    await this.dataSource.getRepository(CivitaiUpdateEntity).delete({ adapterId: id });
  }
}
