import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { link, lstat, mkdir, open, realpath, rm, stat, statfs, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';
import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  APP_CONFIG,
  type AppConfig,
  CancelOutcome,
  ConflictError,
  EventBus,
  InvalidInputError,
  JobName,
  JobQueue,
  NotFoundError,
  type ProgressEventMap,
  errorMessage,
} from '@app/core';
import { HashPolicy } from '../import-runs/import-run.entity.js';
import { ImportService } from '../import-runs/import.service.js';
import { type LibraryRoot, LibraryRoots } from '../library/library-roots.js';
import { toPosix } from '../reading/scanner.js';
import { type CivitaiJson, CivitaiPort } from './civitai.port.js';
import { parseCivitaiReference } from './civitai-reference.js';
import { ACTIVE_DOWNLOAD_STATUSES, CivitaiDownloadEntity, CivitaiDownloadStatus } from './civitai-download.entity.js';
import { CivitaiDownloadRepository } from './civitai-download.repository.js';
import { fetchWithStallLimit, isAllowedHost, readWithStallLimit } from './download-hosts.js';

export type CollisionPolicy = 'fail' | 'rename';

export interface StartDownloadInput {
  /** A version id, a Civitai model/version/download URL or an AIR. */
  reference: string;
  /** A library root's id; the first root when absent. */
  rootId?: string;
  /** A folder relative to the root (created when missing); the root itself when absent. */
  folder?: string;
  /** When a file of that name is there: `fail` (409, the default) or `rename` (`name-1.safetensors` …). */
  onCollision?: CollisionPolicy;
}

export interface DownloadHooks {
  signal: AbortSignal;
  emit?: <E extends 'download.progress' | 'download.completed'>(
    event: E,
    payload: ProgressEventMap[E],
  ) => Promise<void>;
  onProgress?: (done: number, total: number | null) => void;
}

/** A failure a retry cannot mend: the download ends `failed` with this message at once. */
export class DownloadFailedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DownloadFailedError';
  }
}

/** The transfer stopped before the end (cut, stalled, 5xx): the partial file is kept and the next try resumes. */
class DownloadInterruptedError extends Error {}

const MAX_REDIRECTS = 5;
const SAVE_EVERY_MS = 500;
const PREVIEW_MAX_BYTES = 32 * 1024 * 1024;
const MIB = 1024 * 1024;

const numberOr = (v: unknown): number | null => (typeof v === 'number' && Number.isInteger(v) ? v : null);
const isObject = (v: unknown): v is CivitaiJson => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The file a download fetches: the primary one, else the first `Model` file, else the first. */
function pickFile(version: CivitaiJson): CivitaiJson | null {
  const files = Array.isArray(version.files) ? version.files.filter(isObject) : [];
  return files.find((f) => f.primary === true) ?? files.find((f) => f.type === 'Model') ?? files[0] ?? null;
}

/** The partial file beside the target: hidden, named for the download so a resume finds it. */
export const partPathOf = (target: string, id: string): string =>
  join(dirname(target), `.${basename(target)}.${id.slice(0, 8)}.part`);

/**
 * Civitai downloads: a row (the download's state), then a queued job that fetches the version's file into a hidden
 * partial file beside the target, following redirects only to allowed hosts and resuming with `Range` after a cut or
 * a restart; renamed to its name only once its SHA-256 is the one Civitai declares, then its `.civitai.info` and
 * preview are written beside it (never over a file) and it is imported.
 */
@Injectable()
export class CivitaiDownloadService {
  private readonly logger = new Logger(CivitaiDownloadService.name);

  constructor(
    private readonly rows: CivitaiDownloadRepository,
    private readonly roots: LibraryRoots,
    private readonly civitai: CivitaiPort,
    private readonly importer: ImportService,
    private readonly jobs: JobQueue,
    private readonly bus: EventBus,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Checks what can be checked now (version, file, folder, free space, name) and queues the download. */
  async start(input: StartDownloadInput): Promise<CivitaiDownloadEntity> {
    const reference = parseCivitaiReference(input.reference, 'reference');
    let versionId = reference.versionId;
    if (versionId === null) {
      const model = (await this.civitai.model(reference.modelId!)).value;
      if (!model) throw new NotFoundError('Civitai model', String(reference.modelId));
      const versions = Array.isArray(model.modelVersions) ? model.modelVersions.filter(isObject) : [];
      versionId = numberOr(versions[0]?.id);
      if (versionId === null)
        throw new ConflictError('no_versions', `Civitai model ${reference.modelId} has no versions`);
    }
    const version = (await this.civitai.version(versionId)).value;
    if (!version) throw new NotFoundError('Civitai model version', String(versionId));
    const file = pickFile(version);
    if (!file) throw new ConflictError('no_model_file', `Civitai version ${versionId} lists no file to download`);
    const hashes = isObject(file.hashes) ? file.hashes : {};
    const sha256 = typeof hashes.SHA256 === 'string' ? hashes.SHA256.toUpperCase() : '';
    if (!/^[0-9A-F]{64}$/.test(sha256)) {
      throw new ConflictError(
        'no_declared_hash',
        `Civitai version ${versionId} declares no SHA-256 for its file, so a download could not be verified`,
      );
    }
    const name = typeof file.name === 'string' ? file.name : '';
    if (!name || name !== basename(name) || name.includes('\\') || name.startsWith('.') || name.includes('\0')) {
      throw new ConflictError('unsafe_file_name', `Civitai version ${versionId} names its file unsafely`);
    }
    if (!name.toLowerCase().endsWith('.safetensors')) {
      throw new ConflictError(
        'not_a_lora_file',
        `Civitai version ${versionId}'s file ${name} is not a .safetensors file`,
      );
    }
    const root = this.rootOf(input.rootId);
    const dir = await this.folderIn(root, input.folder ?? '');
    const sizeKB = typeof file.sizeKB === 'number' && file.sizeKB > 0 ? file.sizeKB : null;
    const size = sizeKB === null ? null : Math.round(sizeKB * 1024);
    await this.checkFreeSpace(dir, size ?? 0);
    const target = await this.freeName(root, dir, name, input.onCollision ?? 'fail');
    const now = new Date();
    const row = await this.rows.create({
      id: randomUUID(),
      status: CivitaiDownloadStatus.Queued,
      modelId: numberOr(version.modelId) ?? reference.modelId,
      versionId,
      rootId: root.id,
      relativePath: toPosix(relative(root.realPath, target)),
      expectedSha256: sha256,
      bytesDone: 0,
      bytesTotal: size,
      bytesFetched: 0,
      etag: null,
      adapterId: null,
      error: null,
      createdAt: now,
      startedAt: null,
      finishedAt: null,
    });
    await this.jobs.enqueue(JobName.CivitaiDownload, { jobId: row.id }, { jobId: row.id });
    return row;
  }

  async get(id: string): Promise<CivitaiDownloadEntity> {
    const row = await this.rows.findById(id);
    if (!row) throw new NotFoundError('Download', id);
    return row;
  }

  list(limit = 50): Promise<CivitaiDownloadEntity[]> {
    return this.rows.list(limit);
  }

  /** A queued download ends at once; a running one at its next chunk (its partial file is removed). */
  async cancel(id: string): Promise<{ download: CivitaiDownloadEntity; outcome: CancelOutcome }> {
    const row = await this.get(id);
    if (!ACTIVE_DOWNLOAD_STATUSES.includes(row.status))
      return { download: row, outcome: CancelOutcome.AlreadyFinished };
    const outcome = await this.jobs.cancel(JobName.CivitaiDownload, id);
    if (outcome === CancelOutcome.Removed || outcome === CancelOutcome.NotFound) {
      await this.discardPart(row);
      await this.rows.finish(id, { status: CivitaiDownloadStatus.Cancelled, error: 'cancelled' });
      this.bus.publish('download.completed', {
        jobId: id,
        status: CivitaiDownloadStatus.Cancelled,
        bytesDone: 0,
        error: 'cancelled',
      });
    }
    return {
      download: await this.get(id),
      outcome: outcome === CancelOutcome.NotFound ? CancelOutcome.Removed : outcome,
    };
  }

  /**
   * Does the download (the job handler). Interruptions are resumed here up to CIVITAI_RETRIES times, then thrown
   * with the partial file kept for the job's next attempt. A `DownloadFailedError` or a cancel ends the row and
   * removes the partial file.
   */
  async execute(row: CivitaiDownloadEntity, hooks: DownloadHooks): Promise<CivitaiDownloadEntity> {
    if (!(await this.rows.markRunning(row.id))) return this.get(row.id);
    const state = { ...row };
    try {
      const target = await this.targetOf(state);
      const part = partPathOf(target, state.id);
      for (let resumes = 0; ; resumes++) {
        try {
          await this.transfer(state, part, hooks);
          break;
        } catch (error) {
          if (!(error instanceof DownloadInterruptedError) || resumes + 1 >= this.config.civitai.attempts) throw error;
          hooks.signal.throwIfAborted();
          this.logger.warn(`Download ${state.id}: ${error.message}; resuming from byte ${state.bytesDone}`);
        }
      }
      await this.verify(state, part);
      try {
        await link(part, target);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
          throw new DownloadFailedError(`${state.relativePath} appeared meanwhile; the download was discarded`);
        }
        throw error;
      }
      await rm(part, { force: true });
      await this.writeSidecars(target, state.versionId, hooks.signal);
      const { adapter } = await this.importer.registerFile(target, HashPolicy.Full);
      await this.rows.finish(state.id, {
        status: CivitaiDownloadStatus.Completed,
        adapterId: adapter.id,
        bytesDone: state.bytesDone,
        bytesFetched: state.bytesFetched,
      });
      await hooks.emit?.('download.completed', {
        jobId: state.id,
        status: CivitaiDownloadStatus.Completed,
        bytesDone: state.bytesDone,
        adapterId: adapter.id,
      });
      return this.get(state.id);
    } catch (error) {
      if (hooks.signal.aborted) {
        await this.end(state, CivitaiDownloadStatus.Cancelled, 'cancelled', hooks);
      } else if (error instanceof DownloadFailedError || error instanceof ConflictError) {
        await this.end(state, CivitaiDownloadStatus.Failed, error.message, hooks);
      } else {
        await this.rows.saveProgress(state.id, {
          bytesDone: state.bytesDone,
          bytesFetched: state.bytesFetched,
          etag: state.etag,
        });
      }
      throw error;
    }
  }

  /** Ends a download that failed for good (the job's last attempt): its partial file is removed. */
  async fail(id: string, error: unknown, hooks: Pick<DownloadHooks, 'emit'>): Promise<void> {
    const row = await this.rows.findById(id);
    if (row) await this.end(row, CivitaiDownloadStatus.Failed, errorMessage(error), hooks);
  }

  private async end(
    row: CivitaiDownloadEntity,
    status: CivitaiDownloadStatus,
    error: string,
    hooks: Pick<DownloadHooks, 'emit'>,
  ): Promise<void> {
    await this.discardPart(row);
    if (await this.rows.finish(row.id, { status, error, bytesFetched: row.bytesFetched })) {
      await hooks.emit?.('download.completed', { jobId: row.id, status, bytesDone: row.bytesDone, error });
    }
  }

  private async discardPart(row: CivitaiDownloadEntity): Promise<void> {
    const root = this.roots.byId(row.rootId);
    if (root) await rm(partPathOf(join(root.realPath, row.relativePath), row.id), { force: true });
  }

  /** One pass: fetches from byte `bytesDone` of the partial file to the end (or from 0 when it cannot resume). */
  private async transfer(state: CivitaiDownloadEntity, part: string, hooks: DownloadHooks): Promise<void> {
    const settings = this.config.civitaiDownload;
    const existing = await stat(part).catch(() => null);
    let done = existing?.size ?? 0;
    if (done === 0) state.etag = null;
    let url = new URL(`${this.config.civitai.url}/api/download/models/${state.versionId}`);
    const controller = new AbortController();
    const onOuterAbort = () => controller.abort(hooks.signal.reason);
    hooks.signal.addEventListener('abort', onOuterAbort, { once: true });
    const stalled = (what: string) => () =>
      new DownloadInterruptedError(
        `${what} sent nothing for ${settings.stallMs / 1000} s (CIVITAI_DOWNLOAD_STALL_SECONDS)`,
      );
    try {
      let res: Response | null = null;
      for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
        const headers: Record<string, string> = { 'accept-encoding': 'identity' };
        const toCivitai = url.host === new URL(this.config.civitai.url).host;
        // The key goes to Civitai only, never to the file host a redirect names.
        if (toCivitai && this.config.civitai.apiKey) headers.authorization = `Bearer ${this.config.civitai.apiKey}`;
        if (done > 0) {
          headers.range = `bytes=${done}-`;
          if (state.etag) headers['if-range'] = state.etag;
        }
        try {
          res = await fetchWithStallLimit(
            url,
            { headers, redirect: 'manual' },
            settings.stallMs,
            controller,
            stalled(url.host),
          );
        } catch (error) {
          hooks.signal.throwIfAborted();
          if (error instanceof DownloadInterruptedError) throw error;
          throw new DownloadInterruptedError(`${url.host} unreachable: ${errorMessage(error)}`);
        }
        if (res.status >= 300 && res.status < 400 && res.headers.get('location')) {
          await res.body?.cancel();
          const next = new URL(res.headers.get('location')!, url);
          if (next.protocol !== 'https:' && next.protocol !== 'http:') {
            throw new DownloadFailedError(`the download was redirected to a ${next.protocol} URL`);
          }
          if (!isAllowedHost(next, settings.hosts, this.config.civitai.url)) {
            throw new DownloadFailedError(
              `the download was redirected to ${next.host}, which is not in CIVITAI_DOWNLOAD_HOSTS; nothing was fetched from it`,
            );
          }
          url = next;
          res = null;
          continue;
        }
        break;
      }
      if (!res) throw new DownloadFailedError(`more than ${MAX_REDIRECTS} redirects`);
      if (res.status === 401 || res.status === 403) {
        await res.body?.cancel();
        throw new DownloadFailedError(
          `${url.host} answered ${res.status}: this version needs CIVITAI_API_KEY${this.config.civitai.apiKey ? ' (the configured key was refused)' : ''}`,
        );
      }
      if (res.status === 416 && done > 0) {
        await res.body?.cancel();
        if (state.bytesTotal !== null && done >= state.bytesTotal) return;
        await rm(part, { force: true });
        state.bytesDone = 0;
        throw new DownloadInterruptedError('the file host refused the resume range; starting again');
      }
      if (res.status >= 500 || res.status === 429) {
        await res.body?.cancel();
        throw new DownloadInterruptedError(`${url.host} answered ${res.status}`);
      }
      if (res.status !== 200 && res.status !== 206) {
        await res.body?.cancel();
        throw new DownloadFailedError(`${url.host} answered ${res.status} for version ${state.versionId}'s file`);
      }
      const range = /^bytes (\d+)-\d+\/(\d+)$/.exec(res.headers.get('content-range') ?? '');
      if (res.status === 206 && (!range || Number(range[1]) !== done)) {
        await res.body?.cancel();
        await rm(part, { force: true });
        state.bytesDone = 0;
        throw new DownloadInterruptedError('the file host answered another range than asked; starting again');
      }
      if (res.status === 200) done = 0; // the host ignored the range, or the file changed (If-Range): start over
      const length = Number(res.headers.get('content-length') ?? NaN);
      const total = range ? Number(range[2]) : Number.isFinite(length) ? length : state.bytesTotal;
      state.bytesTotal = total;
      state.etag = res.headers.get('etag');
      await this.checkFreeSpace(dirname(part), total === null ? 0 : total - done);
      const fh = await open(part, done === 0 ? 'w' : 'a');
      state.bytesDone = done;
      let savedAt = 0;
      try {
        for await (const chunk of readWithStallLimit(
          res,
          settings.stallMs,
          (why) => controller.abort(why),
          stalled(url.host),
        )) {
          await fh.write(chunk);
          state.bytesDone += chunk.length;
          state.bytesFetched += chunk.length;
          const now = Date.now();
          if (now - savedAt >= SAVE_EVERY_MS) {
            savedAt = now;
            hooks.onProgress?.(state.bytesDone, state.bytesTotal);
            await this.rows.saveProgress(state.id, {
              bytesDone: state.bytesDone,
              bytesTotal: state.bytesTotal,
              bytesFetched: state.bytesFetched,
              etag: state.etag,
            });
            await hooks.emit?.('download.progress', {
              jobId: state.id,
              bytesDone: state.bytesDone,
              bytesTotal: state.bytesTotal,
            });
          }
        }
      } catch (error) {
        hooks.signal.throwIfAborted();
        if (error instanceof DownloadInterruptedError) throw error;
        throw new DownloadInterruptedError(`the transfer from ${url.host} was cut: ${errorMessage(error)}`);
      } finally {
        await fh.close();
      }
      hooks.signal.throwIfAborted();
      if (state.bytesTotal !== null && state.bytesDone < state.bytesTotal) {
        throw new DownloadInterruptedError(
          `the transfer from ${url.host} ended at byte ${state.bytesDone} of ${state.bytesTotal}`,
        );
      }
      await this.rows.saveProgress(state.id, {
        bytesDone: state.bytesDone,
        bytesTotal: state.bytesTotal ?? state.bytesDone,
        bytesFetched: state.bytesFetched,
        etag: state.etag,
      });
      await hooks.emit?.('download.progress', {
        jobId: state.id,
        bytesDone: state.bytesDone,
        bytesTotal: state.bytesTotal ?? state.bytesDone,
      });
    } finally {
      hooks.signal.removeEventListener('abort', onOuterAbort);
    }
  }

  private async verify(state: CivitaiDownloadEntity, part: string): Promise<void> {
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(part) as AsyncIterable<Buffer>) hash.update(chunk);
    const actual = hash.digest('hex').toUpperCase();
    if (actual !== state.expectedSha256) {
      throw new DownloadFailedError(
        `the downloaded file's SHA-256 ${actual} is not the ${state.expectedSha256} Civitai declares; the file was discarded`,
      );
    }
  }

  /** `X.civitai.info` (the version's JSON) and `X.preview.<ext>` (its first image) beside the file, never over one. */
  private async writeSidecars(target: string, versionId: number, signal: AbortSignal): Promise<void> {
    const stem = target.slice(0, -extname(target).length);
    let version: CivitaiJson | null = null;
    try {
      version = (await this.civitai.version(versionId, signal)).value;
      if (version) await writeExclusive(`${stem}.civitai.info`, `${JSON.stringify(version, null, 2)}\n`);
    } catch (error) {
      this.logger.warn(`Download of version ${versionId}: no .civitai.info written: ${errorMessage(error)}`);
    }
    const images = Array.isArray(version?.images) ? version.images.filter(isObject) : [];
    const first = images.find((i) => typeof i.url === 'string' && (i.type === undefined || i.type === 'image'));
    if (!first) return;
    try {
      const image = await fetchImage(String(first.url), this.config, signal);
      if (image) await writeExclusive(`${stem}.preview.${image.ext}`, image.bytes);
    } catch (error) {
      this.logger.warn(`Download of version ${versionId}: no preview written: ${errorMessage(error)}`);
    }
  }

  private rootOf(rootId: string | undefined): LibraryRoot {
    const roots = this.roots.list();
    if (roots.length === 0) {
      throw InvalidInputError.field('rootId', 'no library roots are configured (LORA_ROOTS)', 'no_library_roots');
    }
    if (rootId === undefined) return roots[0];
    const root = this.roots.byId(rootId);
    if (!root) throw InvalidInputError.field('rootId', 'must be the id of a configured library root', 'unknown_root');
    return root;
  }

  /** The folder, created when missing; it (symlinks resolved) must lie inside the root. */
  private async folderIn(root: LibraryRoot, folder: string): Promise<string> {
    const clean = folder.replace(/\\/g, '/').replace(/^\/+|\/+$/g, '');
    if (clean.includes('\0') || isAbsolute(folder) || clean.split('/').some((p) => p === '..')) {
      throw InvalidInputError.field('folder', 'must be a folder inside the library root', 'path_outside_roots');
    }
    const wanted = resolve(root.realPath, clean);
    // The deepest folder that exists must already resolve inside the root, so mkdir cannot create outside it.
    let existing = wanted;
    while (!(await lstat(existing).catch(() => null))) existing = dirname(existing);
    if (!inside(root.realPath, await realpath(existing))) {
      throw InvalidInputError.field('folder', 'must be a folder inside the library root', 'path_outside_roots');
    }
    await mkdir(wanted, { recursive: true });
    const real = await realpath(wanted);
    if (!inside(root.realPath, real) || !(await stat(real)).isDirectory()) {
      throw InvalidInputError.field('folder', 'must be a folder inside the library root', 'path_outside_roots');
    }
    return real;
  }

  private async checkFreeSpace(dir: string, bytes: number): Promise<void> {
    const fs = await statfs(dir);
    const free = fs.bavail * fs.bsize;
    const margin = this.config.civitaiDownload.minFreeBytes;
    if (free - bytes < margin) {
      throw new ConflictError(
        'insufficient_disk_space',
        `Not enough free space: the file needs ${(bytes / MIB).toFixed(1)} MiB and ${(margin / MIB).toFixed(0)} MiB must stay free (CIVITAI_DOWNLOAD_MIN_FREE_MB), but only ${(free / MIB).toFixed(1)} MiB are free`,
      );
    }
  }

  private async freeName(root: LibraryRoot, dir: string, name: string, policy: CollisionPolicy): Promise<string> {
    const ext = extname(name);
    for (let n = 0; n < 1000; n++) {
      const candidate = join(dir, n === 0 ? name : `${name.slice(0, -ext.length)}-${n}${ext}`);
      const taken =
        (await lstat(candidate).catch(() => null)) !== null ||
        (await this.rows.findActiveAt(root.id, toPosix(relative(root.realPath, candidate)))) !== null;
      if (!taken) return candidate;
      if (policy === 'fail') {
        throw new ConflictError(
          'file_exists',
          `${toPosix(relative(root.realPath, candidate))} already exists (or is being downloaded); choose another folder or onCollision: rename`,
        );
      }
    }
    throw new ConflictError('file_exists', `${name}: no free name in that folder`);
  }

  private async targetOf(row: CivitaiDownloadEntity): Promise<string> {
    const root = this.roots.byId(row.rootId);
    if (!root) throw new DownloadFailedError(`library root ${row.rootId} is no longer configured`);
    const target = resolve(root.realPath, row.relativePath);
    const dir = await realpath(dirname(target)).catch(() => null);
    if (!dir || !inside(root.realPath, dir)) {
      throw new DownloadFailedError(`the folder of ${row.relativePath} no longer resolves inside its library root`);
    }
    return join(dir, basename(target));
  }
}

function inside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** Writes a new file; an existing one is left as it is (other tools' sidecars win). Atomic: written, then linked. */
export async function writeExclusive(path: string, data: string | Buffer): Promise<boolean> {
  const temp = `${path}.${randomUUID().slice(0, 8)}.tmp`;
  await writeFile(temp, data, { flag: 'wx' });
  try {
    await link(temp, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await rm(temp, { force: true });
  }
}

const IMAGE_EXT: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/webp': 'webp',
  'image/gif': 'gif',
};

/** An image from an allowed host (CIVITAI_DOWNLOAD_HOSTS), at most 32 MiB; null when it is not an image. */
export async function fetchImage(
  href: string,
  config: AppConfig,
  signal: AbortSignal,
): Promise<{ bytes: Buffer; ext: string; contentType: string } | null> {
  const url = new URL(href);
  if (!isAllowedHost(url, config.civitaiDownload.hosts, config.civitai.url)) {
    throw new Error(`image host ${url.host} is not in CIVITAI_DOWNLOAD_HOSTS`);
  }
  const res = await fetch(url, {
    signal: AbortSignal.any([signal, AbortSignal.timeout(config.civitaiDownload.stallMs)]),
    redirect: 'error',
  });
  const contentType = (res.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
  const ext = IMAGE_EXT[contentType];
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (res.status !== 200 || !ext || declared > PREVIEW_MAX_BYTES) {
    await res.body?.cancel();
    return null;
  }
  const bytes = Buffer.from(await res.arrayBuffer());
  if (bytes.length > PREVIEW_MAX_BYTES) return null;
  return { bytes, ext, contentType };
}
