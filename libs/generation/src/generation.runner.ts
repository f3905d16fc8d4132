import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import {
  APP_CONFIG,
  type AppConfig,
  FileStorage,
  type ProgressEventMap,
  type ProgressEventName,
  StorageFullError,
  StorageUnavailableError,
  StorageUpstreamError,
  errorMessage,
} from '@app/core';
import { type BackendLease, BackendLeaseService, LeaseWaitAbortedError } from './backend-lease.service.js';
import {
  FINISHED_GENERATION_STATUSES,
  type GenerationImageRef,
  type GenerationJobEntity,
  GenerationStatus,
} from './generation-job.entity.js';
import { GenerationJobRepository } from './generation-job.repository.js';
import { GenerationResultSink } from './generation-result.sink.js';
import { GenerationSpool } from './generation-spool.js';
import { SdNextBackends } from './sdnext-backends.js';
import {
  type SdImage,
  SdImageContentType,
  SdNextError,
  SdNextErrorKind,
  type Txt2ImgParams,
  type Txt2ImgResult,
} from './sdnext/index.js';

/** SDNEXT.md §1.4: poll `/progress` at 1–2 Hz at most. */
export const PROGRESS_POLL_MS = 500;
/**
 * The first poll comes this soon after the request is sent, so that a user sees SD.Next take the job (its first
 * reading) at once rather than half a second later; every later poll waits PROGRESS_POLL_MS. One extra call per
 * job stays far inside SD.Next's rate limit (SDNEXT.md §1.9: 300 `/progress` calls a minute per client).
 */
export const FIRST_PROGRESS_POLL_MS = 25;
/** SD.Next's default when a request leaves `steps` out. */
const DEFAULT_STEPS = 20;

export type GenerationEmit = <E extends ProgressEventName>(event: E, payload: ProgressEventMap[E]) => Promise<void>;

export interface RunContext {
  /** Fires on a cancel that reaches this process (queue signal); the row's cancel flag is polled as well. */
  signal?: AbortSignal;
  /** Fires when this process stops: a job still waiting for a backend gives its slot back (`handedBack`). */
  handBack?: AbortSignal;
  attempt: number;
  maxAttempts: number;
  emit: GenerationEmit;
}

export type RunOutcome =
  | { kind: 'succeeded'; job: GenerationJobEntity; images: SdImage[] }
  | { kind: 'failed'; reason: string; sdNextKind?: SdNextErrorKind }
  | { kind: 'cancelled'; reason: string }
  /** SD.Next surely never got the request; the row is queued again. */
  | { kind: 'retry'; reason: string }
  /** The job had already ended (a duplicate delivery of the queue job): nothing was done. */
  | { kind: 'skipped'; job: GenerationJobEntity }
  /** The process is stopping and the job had not got a backend: left queued, for another process. */
  | { kind: 'handedBack' }
  | { kind: 'missing' };

const EXTENSIONS: Record<SdImageContentType, string> = {
  [SdImageContentType.Jpeg]: 'jpg',
  [SdImageContentType.Png]: 'png',
  [SdImageContentType.Webp]: 'webp',
  [SdImageContentType.Unknown]: 'bin',
};

export const generationImageKey = (jobId: string, index: number, contentType: SdImageContentType): string =>
  `generations/${jobId}/${index}.${EXTENSIONS[contentType]}`;

export const generationImagePath = (jobId: string, index: number): string =>
  `/api/v1/generation/jobs/${jobId}/images/${index}`;

type Answer = { ok: true; result: Txt2ImgResult } | { ok: false; error: SdNextError };

/**
 * Runs one generation row to its end, the same way for the queue handler (worker or embedded runner) and for
 * the synchronous endpoint: re-checks the row, takes the backend lease, sends txt2img once, polls progress while
 * it is in flight, interrupts on cancel and waits for the answer, gives the backend to the next job, then stores the
 * images and records the outcome.
 */
@Injectable()
export class GenerationRunner {
  private readonly logger = new Logger(GenerationRunner.name);

  constructor(
    private readonly repository: GenerationJobRepository,
    private readonly leases: BackendLeaseService,
    private readonly backends: SdNextBackends,
    private readonly storage: FileStorage,
    private readonly spool: GenerationSpool,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Optional() private readonly results?: GenerationResultSink,
  ) {}

  async run(jobId: string, ctx: RunContext): Promise<RunOutcome> {
    const job = await this.repository.findById(jobId);
    if (!job) return { kind: 'missing' };
    if (FINISHED_GENERATION_STATUSES.includes(job.status)) return { kind: 'skipped', job };
    // SD.Next answered an earlier run, whose images did not reach the storage: finish from the spool.
    const spooled = await this.spool.load(jobId);
    if (spooled) {
      if (job.cancelRequestedAt || ctx.signal?.aborted) {
        await this.spool.remove(jobId);
        return this.cancel(job, spooled.backendId, 'cancelled while its images waited for the storage', ctx);
      }
      this.logger.log(`Generation ${jobId}: storing the images SD.Next sent to an earlier run (spooled)`);
      return this.complete(job, spooled.backendId, spooled.result, ctx);
    }
    if (job.status === GenerationStatus.Running && job.requestSentAt) {
      // A process died (or lost its queue lock) while SD.Next had the request: sending it again could
      // generate twice, so the job ends here.
      return this.fail(
        job,
        job.backendId,
        'the process running this generation stopped while SD.Next had the request; it is not sent again, to avoid a duplicate generation',
        ctx,
      );
    }
    if (job.status === GenerationStatus.Running) await this.repository.requeue(jobId, job.error ?? 'restarted');
    if (job.cancelRequestedAt || ctx.signal?.aborted) return this.cancel(job, null, 'cancelled before it started', ctx);

    let lease: BackendLease;
    try {
      const signals = [ctx.signal, ctx.handBack].filter((s): s is AbortSignal => s !== undefined);
      lease = await this.leases.acquire(jobId, {
        candidates: job.requestedBackendId ? [job.requestedBackendId] : undefined,
        signal: signals.length > 0 ? AbortSignal.any(signals) : undefined,
        isCancelled: () => this.repository.isCancelRequested(jobId),
      });
    } catch (error) {
      if (!(error instanceof LeaseWaitAbortedError)) throw error;
      const cancelled = ctx.signal?.aborted || (await this.repository.isCancelRequested(jobId));
      if (!cancelled && ctx.handBack?.aborted) return { kind: 'handedBack' };
      return this.cancel(job, null, 'cancelled before it started', ctx);
    }
    try {
      const started = new Date();
      if (!(await this.repository.markRunning(jobId, lease.backendId, job.attempts + 1, started))) {
        const now = await this.repository.findById(jobId);
        if (!now) return { kind: 'missing' };
        if (FINISHED_GENERATION_STATUSES.includes(now.status)) return { kind: 'skipped', job: now };
        return this.cancel(now, null, 'cancelled before it started', ctx);
      }
      job.startedAt = started;
      return await this.generate(job, lease, ctx);
    } finally {
      await this.release(lease);
    }
  }

  /** Idempotent: the lease is released once SD.Next is done with the job, and again (a no-op) when the run ends. */
  private async release(lease: BackendLease): Promise<void> {
    await lease.release().catch((error: unknown) => this.logger.warn(`Lease release failed: ${String(error)}`));
  }

  private async generate(job: GenerationJobEntity, lease: BackendLease, ctx: RunContext): Promise<RunOutcome> {
    const backendId = lease.backendId;
    const { client } = this.backends.get(backendId);
    const params = job.request as Txt2ImgParams;
    const steps = typeof params.steps === 'number' ? params.steps : DEFAULT_STEPS;
    await ctx.emit('generation.progress', {
      jobId: job.id,
      backendId,
      progress: 0,
      step: 0,
      steps,
      etaSeconds: null,
      emittedAt: new Date().toISOString(),
    });

    // Never aborted from here: the lease is held until SD.Next answers, since a dropped connection does not stop it.
    const answer: Promise<Answer> = client.txt2img(params, { allowEmpty: true }).then(
      (result) => ({ ok: true, result }),
      (error: unknown) => ({ ok: false, error: asSdNextError(error) }),
    );
    let settled = false;
    void answer.finally(() => (settled = true));
    let interrupting = false;
    let last = '';
    const aborted = new Promise<void>((resolve) => {
      if (ctx.signal?.aborted) resolve();
      ctx.signal?.addEventListener('abort', () => resolve(), { once: true });
    });
    const interrupt = () =>
      client
        .interrupt()
        .catch((error: unknown) => this.logger.warn(`Interrupt on ${backendId} failed: ${String(error)}`));
    for (let poll = 0; !settled; poll++) {
      const pause = new AbortController();
      // Once interrupting, the fired signal must leave the race: it would end every pass at once.
      await Promise.race([
        answer,
        sleep(poll === 0 ? FIRST_PROGRESS_POLL_MS : PROGRESS_POLL_MS, undefined, { signal: pause.signal }).catch(
          () => undefined,
        ),
        ...(interrupting ? [] : [aborted]),
      ]);
      pause.abort();
      if (settled) break;
      if (!interrupting && (ctx.signal?.aborted || (await this.repository.isCancelRequested(job.id)))) {
        interrupting = true;
        await interrupt();
        continue;
      }
      const reading = await client.progress().catch(() => null);
      if (settled || !reading) continue;
      if (interrupting) {
        // An interrupt that lands before SD.Next began the job is lost (begin() clears the flag): send it again
        // only when SD.Next is seen running this job with the flag clear.
        if (reading.job !== '' && !reading.interrupted) await interrupt();
        continue;
      }
      if (reading.job === '') continue; // idle or between phases: not this job's progress
      const progress = Math.min(0.99, Math.max(0, reading.progress)); // only the answer means done
      const key = `${reading.step}/${reading.steps}/${progress.toFixed(3)}`;
      if (key === last) continue;
      last = key;
      const fields = { progress, step: reading.step, steps: reading.steps || steps, etaSeconds: reading.etaSeconds };
      await this.repository.setProgress(job.id, fields);
      await ctx.emit('generation.progress', {
        jobId: job.id,
        backendId,
        ...fields,
        emittedAt: new Date().toISOString(),
      });
    }
    const outcome = await answer;
    if (!outcome.ok && outcome.error.kind === SdNextErrorKind.Timeout) {
      // It may still be running there; stop it before the next job gets this backend.
      await client.interrupt().catch(() => undefined);
    }
    // SD.Next is done with this job: the next one starts there while this one stores its images and records its
    // outcome (with a remote storage, for seconds), instead of waiting for that.
    await this.release(lease);

    if (interrupting || ctx.signal?.aborted || (await this.repository.isCancelRequested(job.id))) {
      return this.cancel(job, backendId, 'cancelled while running; SD.Next was interrupted', ctx);
    }
    if (!outcome.ok) {
      const error = outcome.error;
      if (error.kind === SdNextErrorKind.Unreachable) this.backends.markDown(backendId);
      if (error.retryable && ctx.attempt < ctx.maxAttempts) {
        await this.repository.requeue(job.id, error.message);
        return { kind: 'retry', reason: error.message };
      }
      return this.fail(job, backendId, error.message, ctx, error.kind);
    }
    this.backends.markUp(backendId);
    const result = outcome.result;
    if (result.images.length === 0) {
      return this.fail(
        job,
        backendId,
        `${client.displayUrl} answered 200 with no images: SD.Next swallows these failures (no model loaded, unknown checkpoint, out of memory); see its log`,
        ctx,
        SdNextErrorKind.EmptyResult,
      );
    }
    // With a remote storage, the answer goes to local disk first: a stop or an outage must not lose it.
    await this.spool
      .save(job.id, { backendId, result })
      .catch((error: unknown) =>
        this.logger.warn(`Generation ${job.id}: the answer could not be spooled: ${errorMessage(error)}`),
      );
    return this.complete(job, backendId, result, ctx);
  }

  /** Stores SD.Next's images, records the results and ends the job succeeded (or retried while storage is down). */
  private async complete(
    job: GenerationJobEntity,
    backendId: string,
    result: Txt2ImgResult,
    ctx: RunContext,
  ): Promise<RunOutcome> {
    const prepared = this.results ? await this.results.prepare(job, backendId, result) : null;
    const refs: GenerationImageRef[] = [];
    for (const [index, image] of result.images.entries()) {
      const key = generationImageKey(job.id, index, image.contentType);
      const bytes = prepared?.bytes[index] ?? image.bytes;
      const stored = await this.store(job.id, key, bytes, image.contentType);
      if (stored !== null) return this.storageFailed(job, backendId, stored, ctx);
      refs.push({ index, key, contentType: image.contentType, size: bytes.length });
    }
    // Recorded before the row ends, so that a job seen succeeded has its results listed.
    await prepared?.record(job, refs, (event, payload) => ctx.emit(event, payload));
    const ended = await this.repository.finish(job.id, GenerationStatus.Succeeded, {
      images: refs,
      info: result.info,
      seed: result.seed,
    });
    await this.spool.remove(job.id);
    if (!ended) {
      const row = await this.repository.findById(job.id);
      return row ? { kind: 'skipped', job: row } : { kind: 'missing' };
    }
    await ctx.emit('generation.completed', {
      jobId: job.id,
      backendId,
      images: refs.map((r) => ({
        index: r.index,
        url: generationImagePath(job.id, r.index),
        contentType: r.contentType,
      })),
      seed: result.seed,
    });
    return { kind: 'succeeded', job: ended, images: result.images };
  }

  /**
   * Stores one image, retrying while the storage is unavailable (S3 down or slow): SD.Next's answer cannot be asked
   * for again, so the images are held here until they are stored or STORAGE_WRITE_RETRY_SECONDS have passed.
   * Returns null when stored, or why the job fails.
   */
  private async store(jobId: string, key: string, bytes: Buffer, contentType: string): Promise<string | null> {
    const deadline = Date.now() + this.config.storageWriteRetryMs;
    for (let attempt = 1, pause = 500; ; attempt++, pause = Math.min(pause * 2, 10_000)) {
      try {
        await this.storage.put(key, bytes, { contentType });
        return null;
      } catch (error) {
        const transient =
          error instanceof StorageUnavailableError ||
          error instanceof StorageUpstreamError ||
          error instanceof StorageFullError;
        if (!transient || Date.now() + pause > deadline) {
          return `the images could not be stored (${errorMessage(error)}); attempts: ${attempt}`;
        }
        this.logger.warn(
          `Image ${key} of generation ${jobId} not stored yet (attempt ${attempt}): ${errorMessage(error)}`,
        );
        await sleep(pause);
      }
    }
  }

  /**
   * The storage kept refusing the images. When they are spooled, the job is retried while attempts remain (the next
   * run stores them, SD.Next is not asked again); the last attempt fails and says where the images are.
   */
  private async storageFailed(
    job: GenerationJobEntity,
    backendId: string,
    reason: string,
    ctx: RunContext,
  ): Promise<RunOutcome> {
    const spooled = this.spool.pathOf(job.id);
    if (spooled === null) return this.fail(job, backendId, reason, ctx);
    if (ctx.attempt < ctx.maxAttempts) {
      await this.repository.requeue(job.id, reason);
      return { kind: 'retry', reason };
    }
    return this.fail(job, backendId, `${reason}; SD.Next's images are kept in ${spooled}`, ctx);
  }

  private async fail(
    job: GenerationJobEntity,
    backendId: string | null,
    reason: string,
    ctx: RunContext,
    sdNextKind?: SdNextErrorKind,
  ): Promise<RunOutcome> {
    if (await this.repository.finish(job.id, GenerationStatus.Failed, { error: reason })) {
      await ctx.emit('generation.failed', { jobId: job.id, backendId, reason });
    }
    return { kind: 'failed', reason, sdNextKind };
  }

  private async cancel(
    job: GenerationJobEntity,
    backendId: string | null,
    reason: string,
    ctx: RunContext,
  ): Promise<RunOutcome> {
    if (await this.repository.finish(job.id, GenerationStatus.Cancelled, { error: reason })) {
      await ctx.emit('generation.cancelled', { jobId: job.id, backendId, reason });
    }
    return { kind: 'cancelled', reason };
  }
}

function asSdNextError(error: unknown): SdNextError {
  if (error instanceof SdNextError) return error;
  return new SdNextError(SdNextErrorKind.InvalidResponse, errorMessage(error));
}
