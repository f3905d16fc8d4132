/** Addresses the browser loads itself (`<img>`, downloads): the same paths the generated client calls. */
export const previewUrl = (adapterId: string): string => `/api/v1/adapters/${encodeURIComponent(adapterId)}/preview`;

export const generationImageUrl = (jobId: string, index: number): string =>
  `/api/v1/generation/jobs/${encodeURIComponent(jobId)}/images/${index}`;
