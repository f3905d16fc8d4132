// Preview image next to a LoRA (LORA-FORMATS §6.2): `<stem>.<ext>`, then `<stem>.preview.<ext>`, then
// `<stem>.thumb.<ext>`; within a tier still images first, videos last; extensions case-insensitive.

import { companionsBySuffix, type DirIndex } from './sidecars.js';

export enum PreviewTier {
  /** `<stem>.<ext>`: A1111's replaced preview, SD.Next's download. */
  Plain = 'plain',
  /** `<stem>.preview.<ext>`: Civitai Helper, civbrowser+, StabilityMatrix. */
  Preview = 'preview',
  /** `<stem>.thumb.<ext>`: SD.Next's generated thumbnail (≤ 512 px). */
  Thumb = 'thumb',
}

/** Extensions in preference order, with their content types. */
export const PREVIEW_CONTENT_TYPES: ReadonlyArray<readonly [string, string]> = [
  ['webp', 'image/webp'],
  ['png', 'image/png'],
  ['jpg', 'image/jpeg'],
  ['jpeg', 'image/jpeg'],
  ['avif', 'image/avif'],
  ['jxl', 'image/jxl'],
  ['gif', 'image/gif'],
  ['tiff', 'image/tiff'],
  ['tif', 'image/tiff'],
  ['jp2', 'image/jp2'],
  ['mp4', 'video/mp4'],
  ['webm', 'video/webm'],
];

const TYPES = new Map(PREVIEW_CONTENT_TYPES);

const TIERS: ReadonlyArray<[PreviewTier, string]> = [
  [PreviewTier.Plain, ''],
  [PreviewTier.Preview, '.preview'],
  [PreviewTier.Thumb, '.thumb'],
];

export interface FoundPreview {
  fileName: string;
  contentType: string;
  tier: PreviewTier;
  isVideo: boolean;
}

/** Content type from a file name's extension (case-insensitive); undefined when not a preview type. */
export function previewContentType(fileName: string): string | undefined {
  const dot = fileName.lastIndexOf('.');
  return dot < 0 ? undefined : TYPES.get(fileName.slice(dot + 1).toLowerCase());
}

/** Every name after a stem that is a preview, best first. */
const PREVIEW_SUFFIXES: ReadonlyArray<{ suffix: string; tier: PreviewTier; contentType: string }> = TIERS.flatMap(
  ([tier, infix]) =>
    PREVIEW_CONTENT_TYPES.map(([ext, contentType]) => ({ suffix: `${infix}.${ext}`, tier, contentType })),
);

/** Every preview file present for `stem`, best first. */
export function listPreviews(listing: readonly string[] | DirIndex, stem: string): FoundPreview[] {
  const companions = companionsBySuffix(listing, stem);
  const out: FoundPreview[] = [];
  if (companions.size === 0) return out;
  for (const { suffix, tier, contentType } of PREVIEW_SUFFIXES) {
    const fileName = companions.get(suffix);
    if (fileName !== undefined) out.push({ fileName, contentType, tier, isVideo: contentType.startsWith('video/') });
  }
  return out;
}

/** The preview file for `stem`, or undefined. */
export function findPreview(listing: readonly string[] | DirIndex, stem: string): FoundPreview | undefined {
  return listPreviews(listing, stem)[0];
}
