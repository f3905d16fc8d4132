import { randomUUID } from 'node:crypto';
import { link, readdir, readFile, realpath, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, errorMessage } from '@app/core';
import { listPreviews, previewContentType } from '../reading/previews.js';
import { findSidecars, SidecarKind, stemOf } from '../reading/index.js';
import type { CivitaiJson } from './civitai.port.js';

/** Largest preview image fetched for a sidecar. */
const MAX_PREVIEW_BYTES = 32 * 1024 * 1024;
const PREVIEW_EXTENSIONS: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'video/mp4': 'mp4',
  'video/webm': 'webm',
};

export interface WrittenSidecars {
  info: string | null;
  preview: string | null;
}

/** The bytes written for a version. */
const infoBytes = (version: CivitaiJson): Buffer => Buffer.from(JSON.stringify(version, null, 4));

/** JSON with object keys sorted: PostgreSQL's jsonb does not keep the order the answer came in. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** A sidecar holding exactly the answer stored before is this service's own. */
async function holds(path: string, previous: CivitaiJson): Promise<boolean> {
  try {
    return canonical(JSON.parse(await readFile(path, 'utf8'))) === canonical(previous);
  } catch {
    return false;
  }
}

/**
 * `CIVITAI_WRITE_SIDECARS`: writes `X.civitai.info` (the version JSON, as Civitai Helper does) and `X.preview.<ext>`
 * (the version's first image) beside a file Civitai knows, so other tools see them. Never overwrites a sidecar or a
 * preview already there (a hard link of a finished temporary file, which fails when the name is taken) except its own
 * `.civitai.info` (exactly the answer stored before: a relink replaces it, an unlink removes it), never writes
 * outside the file's library root, and leaves no temporary file behind.
 */
@Injectable()
export class CivitaiSidecarWriter {
  private readonly logger = new Logger(CivitaiSidecarWriter.name);

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  get enabled(): boolean {
    return this.config.civitai.writeSidecars;
  }

  /**
   * Writes what is missing beside `absPath` (inside `rootRealPath`) for `version` (null: only removes its own
   * `.civitai.info` of `previous`, the answer stored before); failures are logged, never thrown.
   */
  async write(
    rootRealPath: string,
    absPath: string,
    version: CivitaiJson | null,
    previous: CivitaiJson | null,
  ): Promise<WrittenSidecars> {
    const out: WrittenSidecars = { info: null, preview: null };
    if (!this.enabled) return out;
    try {
      const dir = await realpath(dirname(absPath));
      if (dir !== rootRealPath && !dir.startsWith(rootRealPath + sep)) return out;
      const names = (await readdir(dir, { withFileTypes: true })).filter((e) => !e.isDirectory()).map((e) => e.name);
      const stem = stemOf(absPath.slice(dirname(absPath).length + 1));
      const found = version !== null && Object.keys(version).length > 0;
      const existing = findSidecars(names, stem).find((s) => s.kind === SidecarKind.CivitaiInfo);
      const own =
        existing !== undefined &&
        previous !== null &&
        Object.keys(previous).length > 0 &&
        (await holds(join(dir, existing.fileName), previous));
      if (own && !found) {
        await unlink(join(dir, existing.fileName));
      } else if (own && found) {
        const target = join(dir, existing.fileName);
        const temp = tempBeside(target);
        await writeFile(temp, infoBytes(version), { flag: 'wx' });
        await rename(temp, target);
        out.info = target;
      } else if (!existing && found) {
        const target = join(dir, `${stem}.civitai.info`);
        if (await placeNew(target, infoBytes(version))) out.info = target;
      }
      if (found && listPreviews(names, stem).length === 0) out.preview = await this.writePreview(dir, stem, version);
    } catch (error) {
      this.logger.warn(`Could not write Civitai sidecars beside ${absPath}: ${errorMessage(error)}`);
    }
    return out;
  }

  private async writePreview(dir: string, stem: string, version: CivitaiJson): Promise<string | null> {
    const images = Array.isArray(version.images) ? (version.images as CivitaiJson[]) : [];
    const url = images.find((i) => typeof i.url === 'string')?.url as string | undefined;
    if (!url || !/^https?:\/\//i.test(url)) return null;
    const res = await fetch(url, { signal: AbortSignal.timeout(this.config.civitai.timeoutMs) });
    if (!res.ok || !res.body) return null;
    const type = (res.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
    const fromUrl = new URL(url).pathname.split('.').pop()?.toLowerCase() ?? '';
    const ext = PREVIEW_EXTENSIONS[type] ?? (previewContentType(`x.${fromUrl}`) ? fromUrl : null);
    if (!ext) return null;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      size += chunk.length;
      if (size > MAX_PREVIEW_BYTES) return null;
      chunks.push(Buffer.from(chunk));
    }
    const target = join(dir, `${stem}.preview.${ext}`);
    return (await placeNew(target, Buffer.concat(chunks))) ? target : null;
  }
}

/** Writes `bytes` to a temporary name, then links it to `target` only if nothing has that name; false if taken. */
const tempBeside = (target: string) => join(dirname(target), `.${randomUUID()}.lora-manager.tmp`);

async function placeNew(target: string, bytes: Buffer): Promise<boolean> {
  const temp = tempBeside(target);
  await writeFile(temp, bytes, { flag: 'wx' });
  try {
    await link(temp, target);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}
