/** Addresses the browser loads itself (`<img>`, downloads): the same paths the generated client calls. */
export const previewUrl = (adapterId: string, thumbnail?: ThumbnailSize): string =>
  `/api/v1/adapters/${encodeURIComponent(adapterId)}/preview${thumbnail ? `?size=${thumbnail}` : ''}`;

/** Sizes the API makes WebP thumbnails at (pixels on the long side). */
export type ThumbnailSize = 256 | 768;

/** The thumbnail of a result's image; a result's image never changes, so the browser keeps it for a year. */
export const resultThumbnailUrl = (resultId: string, size: ThumbnailSize = 256): string =>
  `/api/v1/results/${encodeURIComponent(resultId)}/thumbnail?size=${size}`;

export const generationImageUrl = (jobId: string, index: number): string =>
  `/api/v1/generation/jobs/${encodeURIComponent(jobId)}/images/${index}`;
