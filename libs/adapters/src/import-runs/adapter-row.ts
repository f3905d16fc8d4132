import { createHash, randomUUID } from 'node:crypto';
import { relative } from 'node:path';
import { type AdapterFacts, PreviewSource } from '../reading/merge.js';
import { CIVITAI_TYPE_BY_KIND } from '../reading/lora-kind.js';
import { type ScannedFile, toPosix } from '../reading/scanner.js';
// Types only from the entity module: this file also runs in import worker threads, which load no ORM.
import type { AdapterCivitaiDetails, AdapterEntity, AdapterSidecarRef } from '../library/adapter.entity.js';
import { AdapterUserField, nsfwMaxOf, normaliseTags, searchTextOf } from '../library/adapter-fields.js';
import type { AdapterSnapshot } from '../library/adapter.repository.js';
import type { LibraryRoot } from '../library/library-roots.js';

/** The names generators resolve a token by (SDNEXT.md §6): stem, dot-mangled stem, `ss_output_name` alias. */
export function loraNamesOf(
  fileName: string,
  headerMetadata: Readonly<Record<string, string>>,
): { loraStem: string; loraName: string; loraAlias: string | null } {
  const dot = fileName.lastIndexOf('.');
  const stem = dot > 0 ? fileName.slice(0, dot) : fileName;
  const alias = headerMetadata['ss_output_name']?.trim();
  return {
    loraStem: stem.slice(0, 512),
    loraName: stem.replaceAll('.', '_').slice(0, 512),
    loraAlias: alias ? alias.slice(0, 512) : null,
  };
}

const toDate = (value: string | undefined): Date | null => {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
};

const finite = (n: number | undefined): number | null => (typeof n === 'number' && Number.isFinite(n) ? n : null);
const int = (n: number | undefined): number =>
  typeof n === 'number' && Number.isFinite(n) ? Math.max(0, Math.round(n)) : 0;
const clip = (s: string | undefined | null, max: number): string | null => (s ? s.slice(0, max) : null);

/** The Civitai facts that have no column, or null when no sidecar gave any. */
function civitaiDetailsOf(facts: AdapterFacts): AdapterCivitaiDetails | null {
  const { air, deleted } = facts.civitai;
  const { dislikes, favorites, comments } = facts.stats ?? {};
  const details: AdapterCivitaiDetails = {};
  if (air !== undefined) details.air = air.slice(0, 512);
  if (deleted !== undefined) details.deleted = deleted;
  if (dislikes !== undefined) details.dislikes = dislikes;
  if (favorites !== undefined) details.favorites = favorites;
  if (comments !== undefined) details.comments = comments;
  return Object.keys(details).length > 0 ? details : null;
}

/**
 * Row fields that are not facts the files state about the adapter: identity and place, file stats, hashes (a
 * newly computed hash is counted apart, see `ImportCounts.hashed`), the user's own fields and bookkeeping.
 */
const NOT_FILE_FACTS = new Set<string>([
  'id',
  'rootId',
  'relativePath',
  'folder',
  'fileName',
  'loraStem',
  'loraName',
  'fileMtimeMs',
  'sha256',
  'sha256Verified',
  'autoV2',
  'autoV3',
  'autoV1',
  'blake3',
  'crc32',
  'sortName',
  'searchText',
  'sidecars',
  'factsDigest',
  // Derived from `warnings`, which the digest covers.
  'hasWarnings',
  'triggerWords',
  'nsfwOverride',
  'nsfwMax',
  'favorite',
  'active',
  'ordinal',
  'userEdited',
  'missingSince',
  'lastIngestedAt',
  'createdAt',
  'updatedAt',
]);

/**
 * A digest of what the files say about the adapter: equal digests mean a re-read changed no fact. `fromFiles`
 * holds the files' values of the fields the user has edited, so an edit never reads as a change in the files.
 */
export function factsDigestOf(
  row: Omit<AdapterEntity, 'searchVector'>,
  fromFiles: Partial<Record<string, unknown>> = {},
): string {
  // A shallow copy of the fact fields, then a plain stringify: a replacer function would be called for every
  // nested key of the header metadata too (a fifth of a worker thread's time in a cold import).
  const facts: Record<string, unknown> = {};
  const fields = row as Record<string, unknown>;
  for (const key of Object.keys(row)) {
    if (!NOT_FILE_FACTS.has(key)) facts[key] = key in fromFiles ? fromFiles[key] : fields[key];
  }
  return createHash('sha256').update(JSON.stringify(facts)).digest('hex');
}

/**
 * One Adapter row from merged file facts. An existing row keeps its id, creation time, tombstone-free state
 * and every field its user has edited; a resync never overwrites those.
 */
export function buildAdapterRow(...sources: Parameters<typeof buildUndigestedRow>): AdapterEntity {
  const { row, fromFiles } = buildUndigestedRow(...sources);
  return digested(row, fromFiles);
}

/** The row with its `factsDigest`; `fromFiles` as `buildUndigestedRow` gave it. */
export function digested(row: AdapterEntity, fromFiles: Partial<Record<string, unknown>> = {}): AdapterEntity {
  row.factsDigest = factsDigestOf(row, fromFiles);
  return row;
}

/**
 * `buildAdapterRow` without the digest (`factsDigest` null), with what `digested` needs to add it: the files'
 * values of the fields the user has edited. An import's worker threads leave the digest to the main thread, which
 * otherwise waits for them (the digest was an eighth of a worker thread's time in a cold import).
 */
export function buildUndigestedRow(
  facts: AdapterFacts,
  file: Pick<ScannedFile, 'relPath' | 'name' | 'size' | 'mtimeMs'>,
  root: LibraryRoot,
  sidecars: AdapterSidecarRef[],
  existing: AdapterSnapshot | undefined,
  now: Date,
): { row: AdapterEntity; fromFiles: Partial<Record<string, unknown>> } {
  const edited = new Set(existing?.userEdited ?? []);
  const fromFiles: Partial<Record<string, unknown>> = {};
  const keep = <T>(field: AdapterUserField, fromFile: T, fromUser: T | undefined): T => {
    if (!existing || !edited.has(field) || fromUser === undefined) return fromFile;
    fromFiles[field] = fromFile;
    return fromUser;
  };

  const folder = file.relPath.includes('/') ? file.relPath.slice(0, file.relPath.lastIndexOf('/')) : '';
  const name = keep(AdapterUserField.Name, (facts.name || file.name).slice(0, 512), existing?.name);
  const tags = keep(AdapterUserField.Tags, normaliseTags(facts.tags), existing?.tags);
  const baseModel = keep(AdapterUserField.BaseModel, (facts.baseModel || 'Unknown').slice(0, 64), existing?.baseModel);
  const triggerWords = existing?.triggerWords ?? [];
  const nsfwLevel = int(facts.nsfwLevel);
  const nsfwOverride = existing?.nsfwOverride ?? null;
  const previewPath = facts.previewPath ? toPosix(relative(root.realPath, facts.previewPath)) : null;
  const previewEmbedded = facts.preview?.source === PreviewSource.Embedded ? clip(facts.preview.key, 64) : null;
  const names = loraNamesOf(file.name, facts.headerMetadata);

  // A plain object: rows cross from worker threads by structured clone, which keeps no class anyway.
  const row: Omit<AdapterEntity, 'searchVector'> = {
    id: existing?.id ?? randomUUID(),
    rootId: root.id,
    relativePath: file.relPath,
    folder,
    fileName: file.name,
    // Fields written out, not spread: a spread in the middle of a literal builds the row property by property.
    loraStem: names.loraStem,
    loraName: names.loraName,
    loraAlias: names.loraAlias,
    fileSize: file.size,
    fileMtimeMs: file.mtimeMs,
    sha256: facts.hashes.sha256 ?? null,
    sha256Verified: facts.sha256Verified,
    autoV2: facts.hashes.autoV2 ?? null,
    autoV3: facts.hashes.autoV3 ?? null,
    autoV1: facts.hashes.autoV1 ?? null,
    blake3: facts.hashes.blake3 ?? null,
    crc32: facts.hashes.crc32 ?? null,
    name,
    sortName: name.toLowerCase(),
    versionName: clip(facts.versionName, 512),
    description: facts.description ?? facts.versionDescription ?? null,
    versionDescription: facts.versionDescription ?? null,
    creator: clip(facts.creator, 255),
    civitaiModelId: facts.civitai.modelId ?? null,
    civitaiVersionId: facts.civitai.versionId ?? null,
    civitaiLookup: facts.civitai.lookup,
    civitaiRemote: existing?.civitaiRemote ?? null,
    civitaiCheckedAt: existing?.civitaiCheckedAt ?? null,
    baseModel,
    baseModelRaw: clip(facts.baseModelInfo?.evidence, 128),
    modelType: (facts.modelType ?? CIVITAI_TYPE_BY_KIND[facts.loraKind] ?? 'LORA').slice(0, 32),
    tags,
    trainedWords: facts.trainedWords,
    triggerWords,
    activationText: facts.activationText ?? null,
    preferredWeight: keep(AdapterUserField.PreferredWeight, finite(facts.preferredWeight), existing?.preferredWeight),
    weightMin: keep(AdapterUserField.WeightMin, finite(facts.weightMin), existing?.weightMin),
    weightMax: keep(AdapterUserField.WeightMax, finite(facts.weightMax), existing?.weightMax),
    nsfwLevel,
    nsfwOverride,
    nsfwMax: nsfwMaxOf(nsfwLevel, nsfwOverride),
    downloads: int(facts.stats?.downloads),
    likes: int(facts.stats?.likes),
    rating: finite(facts.stats?.rating),
    ratingCount: finite(facts.stats?.ratingCount),
    license: facts.license ? { ...facts.license } : null,
    civitaiDetails: civitaiDetailsOf(facts),
    publishedAt: toDate(facts.publishedAt ?? facts.createdAt),
    primaryFile: facts.primaryFile
      ? {
          name: facts.primaryFile.name,
          sizeKB: facts.primaryFile.sizeKB,
          downloadUrl: facts.primaryFile.downloadUrl,
          hashes: { ...facts.primaryFile.hashes },
          format: facts.primaryFile.format,
          fp: facts.primaryFile.fp,
        }
      : null,
    previewPath,
    previewEmbedded,
    hasPreview: previewPath !== null || previewEmbedded !== null,
    previewUrl: clip(facts.preview?.url, 2048),
    headerMetadata: facts.headerMetadata,
    sidecars,
    unmapped: facts.unmapped,
    images: facts.images,
    warnings: facts.warnings,
    hasWarnings: facts.warnings.length > 0,
    searchText: searchTextOf({
      name,
      versionName: facts.versionName,
      fileName: file.name,
      creator: facts.creator,
      trainedWords: facts.trainedWords,
      triggerWords,
      tags,
    }),
    // Notes a sidecar carries (A1111 `.json`, LoRA-Manager `.metadata.json`) until the user writes their own.
    notes: keep(AdapterUserField.Notes, clip(facts.notes?.trim(), 20_000), existing?.notes),
    favorite: existing ? existing.favorite : (facts.favorite ?? false),
    // Activation is the user's choice: a new file never joins the default composition on its own.
    active: existing ? existing.active : false,
    ordinal: existing?.ordinal ?? null,
    userEdited: existing?.userEdited ?? [],
    factsDigest: null,
    missingSince: null,
    lastIngestedAt: now,
    createdAt: existing?.createdAt ?? now,
    updatedAt: now,
  };
  return { row, fromFiles };
}
