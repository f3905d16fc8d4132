export const formatTime = (iso: string | null | undefined): string =>
  iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'short' }) : '—';

export const formatBytes = (bytes: number): string => {
  const units = ['B', 'KB', 'MB', 'GB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
};

export const NSFW_LEVELS = [
  { bit: 1, label: 'PG' },
  { bit: 2, label: 'PG-13' },
  { bit: 4, label: 'R' },
  { bit: 8, label: 'X' },
  { bit: 16, label: 'XXX' },
  { bit: 32, label: 'Blocked' },
] as const;

export const nsfwLabel = (bit: number): string => NSFW_LEVELS.find((l) => l.bit === bit)?.label ?? 'unrated';

/** The prompt a generation ran with: the composed one, else the request's. */
export const promptOf = (job: { composedPrompt: string | null; request: Record<string, unknown> }): string =>
  job.composedPrompt ?? (typeof job.request.prompt === 'string' ? job.request.prompt : '');
