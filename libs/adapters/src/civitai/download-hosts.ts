import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';

/**
 * Whether `url` may be fetched during a download: its host (`host:port` or host name) is the Civitai API's host or
 * matches an entry of `CIVITAI_DOWNLOAD_HOSTS` (`*.civitai.com` matches every subdomain of civitai.com).
 */
export function isAllowedHost(url: URL, allowed: readonly string[], civitaiUrl: string): boolean {
  const host = url.host.toLowerCase();
  const name = url.hostname.toLowerCase();
  if (host === new URL(civitaiUrl).host.toLowerCase()) return true;
  return allowed.some((entry) =>
    entry.startsWith('*.') ? name.endsWith(entry.slice(1)) : entry === host || entry === name,
  );
}

/**
 * Reads a response body chunk by chunk, failing with `onStall`'s error when nothing arrives for `stallMs`; the
 * response is aborted through `abort` then.
 */
export async function* readWithStallLimit(
  res: Response,
  stallMs: number,
  abort: (why: Error) => void,
  onStall: () => Error,
): AsyncGenerator<Buffer> {
  if (!res.body) return;
  const stream = Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
  let timer: NodeJS.Timeout | undefined;
  // Set by the timer, read after the loop: an object, so the compiler does not narrow it to null.
  const stall: { error: Error | null } = { error: null };
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      stall.error = onStall();
      abort(stall.error);
      stream.destroy(stall.error);
    }, stallMs);
  };
  arm();
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      arm();
      yield chunk;
    }
  } catch (error) {
    throw stall.error ?? error;
  } finally {
    clearTimeout(timer);
  }
  if (stall.error) throw stall.error;
}

/** Waits for the response headers at most `stallMs`; the error `onStall` makes says why. */
export async function fetchWithStallLimit(
  url: URL,
  init: RequestInit,
  stallMs: number,
  controller: AbortController,
  onStall: () => Error,
): Promise<Response> {
  let stalled: Error | null = null;
  const timer = setTimeout(() => {
    stalled = onStall();
    controller.abort(stalled);
  }, stallMs);
  try {
    return await fetch(url, { ...init, signal: controller.signal });
  } catch (error) {
    throw stalled ?? error;
  } finally {
    clearTimeout(timer);
  }
}
