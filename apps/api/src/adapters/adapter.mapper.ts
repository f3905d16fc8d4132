import type { AdapterEntity, AdapterPage } from '@app/adapters';
import type { AdapterDto, AdapterPageDto, AdapterSummaryDto } from './adapter.dto.js';

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

/**
 * Summaries of cached rows: the read cache hands out the same frozen entity until the database changes, so its
 * summary is mapped once per `hasUpdate` answer (50 objects a list page, ~55 µs a request) and shared, frozen, by
 * every response.
 */
const cachedSummaries = new WeakMap<AdapterEntity, Map<boolean | undefined, AdapterSummaryDto>>();
/** The JSON text of such a shared summary, made on its first response (~2 µs a summary, 50 a page). */
const summaryTexts = new WeakMap<AdapterSummaryDto, string>();

/** The summary of an adapter; `hasUpdate` (the list's Civitai update flag) is set when given. */
export function mapAdapterSummary(a: AdapterEntity, hasUpdate?: boolean): AdapterSummaryDto {
  if (!Object.isFrozen(a)) return summaryOf(a, hasUpdate);
  let variants = cachedSummaries.get(a);
  if (!variants) cachedSummaries.set(a, (variants = new Map<boolean | undefined, AdapterSummaryDto>()));
  let summary = variants.get(hasUpdate);
  if (!summary) variants.set(hasUpdate, (summary = Object.freeze(summaryOf(a, hasUpdate))));
  return summary;
}

function summaryOf(a: AdapterEntity, hasUpdate: boolean | undefined): AdapterSummaryDto {
  return {
    id: a.id,
    name: a.name,
    versionName: a.versionName,
    fileName: a.fileName,
    rootId: a.rootId,
    relativePath: a.relativePath,
    folder: a.folder,
    baseModel: a.baseModel,
    modelType: a.modelType,
    creator: a.creator,
    tags: a.tags,
    trainedWords: a.trainedWords,
    triggerWords: a.triggerWords,
    civitaiModelId: a.civitaiModelId,
    civitaiVersionId: a.civitaiVersionId,
    nsfwLevel: a.nsfwLevel,
    nsfwOverride: a.nsfwOverride,
    nsfwMax: a.nsfwMax,
    downloads: a.downloads,
    likes: a.likes,
    rating: a.rating,
    fileSize: Number(a.fileSize),
    sha256: a.sha256,
    sha256Verified: a.sha256Verified,
    autoV2: a.autoV2,
    hasPreview: a.hasPreview,
    hasWarnings: a.hasWarnings,
    preferredWeight: a.preferredWeight,
    weightMin: a.weightMin,
    weightMax: a.weightMax,
    favorite: a.favorite,
    active: a.active,
    ordinal: a.ordinal,
    missingSince: iso(a.missingSince),
    createdAt: a.createdAt.toISOString(),
    updatedAt: a.updatedAt.toISOString(),
    ...(hasUpdate === undefined ? {} : { hasUpdate }),
  };
}

export function mapAdapter(a: AdapterEntity): AdapterDto {
  return {
    ...mapAdapterSummary(a),
    description: a.description,
    versionDescription: a.versionDescription,
    civitaiLookup: a.civitaiLookup,
    baseModelRaw: a.baseModelRaw,
    activationText: a.activationText,
    ratingCount: a.ratingCount,
    license: a.license,
    civitaiDetails: a.civitaiDetails ? { ...a.civitaiDetails } : null,
    publishedAt: iso(a.publishedAt),
    primaryFile: a.primaryFile ? { ...a.primaryFile } : null,
    fileMtimeMs: a.fileMtimeMs,
    autoV1: a.autoV1,
    autoV3: a.autoV3,
    blake3: a.blake3,
    crc32: a.crc32,
    previewPath: a.previewPath,
    previewEmbedded: a.previewEmbedded,
    previewUrl: a.previewUrl,
    headerMetadata: a.headerMetadata,
    sidecars: a.sidecars.map((s) => ({ ...s })),
    unmapped: a.unmapped,
    images: a.images.filter((i): i is Record<string, unknown> => typeof i === 'object' && i !== null),
    warnings: a.warnings,
    notes: a.notes,
    userEdited: a.userEdited,
    lastIngestedAt: a.lastIngestedAt.toISOString(),
  };
}

/** A list page; each item says whether Civitai has a newer version of it (`withUpdates`). */
export function mapAdapterPage(page: AdapterPage<AdapterEntity>, withUpdates: ReadonlySet<string>): AdapterPageDto {
  return {
    ...page,
    items: page.items.map((a) => mapAdapterSummary(a, withUpdates.has(a.id))),
    warnings: page.warnings.map((w) => ({ ...w })),
  };
}

/**
 * A list page as JSON text, `items` first: what `JSON.stringify` makes of the page, but each shared (frozen)
 * summary is serialised once and its text reused by every response that holds it.
 */
export function adapterPageJson(page: AdapterPageDto): string {
  const { items, ...rest } = page;
  const texts = items.map((summary) => {
    if (!Object.isFrozen(summary)) return JSON.stringify(summary);
    let text = summaryTexts.get(summary);
    if (text === undefined) summaryTexts.set(summary, (text = JSON.stringify(summary)));
    return text;
  });
  const others = JSON.stringify(rest);
  return `{"items":[${texts.join(',')}]${others === '{}' ? '' : `,${others.slice(1, -1)}`}}`;
}
