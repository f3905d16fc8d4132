import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable } from '@nestjs/common';
import {
  type ComposeOutcome,
  type ComposeRequest,
  CompositionService,
  Dialect,
  usedAdaptersOf,
} from '@app/composition';
import {
  CancelOutcome,
  ConflictError,
  DomainError,
  DomainErrorKind,
  EventBus,
  FileStorage,
  InvalidInputError,
  JOB_RUN_OPTIONS,
  JobName,
  JobQueue,
  NotFoundError,
  UnavailableError,
} from '@app/core';
import { BackendLeaseService } from './backend-lease.service.js';
import {
  FINISHED_GENERATION_STATUSES,
  type GenerationAdapterRef,
  GenerationJobEntity,
  GenerationMode,
  GenerationStatus,
} from './generation-job.entity.js';
import { GenerationJobRepository } from './generation-job.repository.js';
import { type GenerationRequest, toTxt2ImgParams } from './generation-request.js';
import { GenerationFailedError } from './generation.errors.js';
import { type GenerationEmit, GenerationRunner } from './generation.runner.js';
import { SdNextBackends } from './sdnext-backends.js';
import { SdBackendFlavour, type SdImage } from './sdnext/index.js';

export interface BackendStatus {
  id: string;
  /** Base URL without credentials. */
  url: string;
  reachable: boolean;
  flavour: SdBackendFlavour;
  version: string | null;
  currentModel: string | null;
  /** A generation holds this backend right now (from any process). */
  busy: boolean;
  jobId: string | null;
  error: string | null;
}

/** A backend's real choices for txt2img parameters. */
export interface BackendOptions {
  backendId: string;
  samplers: string[];
  /** `title` is what `checkpoint` takes. */
  checkpoints: { title: string; name: string }[];
}

/** Extra facts that compose-and-generate records with the job. */
export interface GenerationExtras {
  /**
   * The job's id, chosen by the caller so that a retried caller (a delivery re-run after a crash) finds the
   * generation it already created instead of creating a second one.
   */
  jobId?: string;
  composedPrompt?: string;
  adaptersUsed?: GenerationAdapterRef[];
}

export interface SyncGenerationResult {
  job: GenerationJobEntity;
  images: SdImage[];
}

const CANCEL_SETTLE_MS = 3_000;

@Injectable()
export class GenerationService {
  constructor(
    private readonly repository: GenerationJobRepository,
    private readonly runner: GenerationRunner,
    private readonly backends: SdNextBackends,
    private readonly leases: BackendLeaseService,
    private readonly jobs: JobQueue,
    private readonly bus: EventBus,
    private readonly storage: FileStorage,
    private readonly composition: CompositionService,
  ) {}

  /** Each backend probed (reachability, SD.Next or A1111, version, loaded model) and whether it is busy. */
  async listBackends(): Promise<BackendStatus[]> {
    const [probes, held] = await Promise.all([
      Promise.all(this.backends.all().map((b) => b.client.probe())),
      this.leases.held(),
    ]);
    return this.backends.all().map((b, i) => {
      const probe = probes[i];
      return {
        id: b.id,
        url: b.client.displayUrl,
        reachable: probe.reachable && !probe.error,
        flavour: probe.flavour,
        version: probe.version ?? null,
        currentModel: probe.currentModel ?? null,
        busy: held.has(b.id),
        jobId: held.get(b.id) ?? null,
        error: probe.error?.message ?? null,
      };
    });
  }

  /** What a backend really offers for a txt2img request: its samplers and checkpoints, asked of SD.Next now. */
  async backendOptions(backendId: string): Promise<BackendOptions> {
    if (!this.backends.has(backendId)) throw new NotFoundError('Backend', backendId, 'backend_not_found');
    const { client } = this.backends.get(backendId);
    try {
      const [samplers, models] = await Promise.all([client.samplers(), client.models()]);
      return {
        backendId,
        samplers: samplers.map((s) => s.name),
        checkpoints: models.map((m) => ({ title: m.title, name: m.modelName })),
      };
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new DomainError(DomainErrorKind.Upstream, 'backend_unreachable', `Backend ${backendId}: ${reason}`);
    }
  }

  /**
   * Composes the prompt from the library (tokens in the dialect of the target backend unless one is given),
   * then generates with it, synchronously or queued. The composition is recorded with the job.
   */
  async composeAndGenerate(
    compose: ComposeRequest,
    request: Omit<GenerationRequest, 'prompt'> & { prompt?: string },
    queued: boolean,
  ): Promise<{ composition: ComposeOutcome; job: GenerationJobEntity; images: SdImage[] | null }> {
    let dialect = compose.dialect;
    if (dialect === undefined) {
      const backendId = request.backend_id ?? this.backends.ids()[0];
      const probe =
        backendId && this.backends.has(backendId) ? await this.backends.get(backendId).client.probe() : null;
      dialect = probe?.flavour === SdBackendFlavour.A1111 ? Dialect.A1111 : Dialect.SdNext;
    }
    const composition = await this.composition.compose({ ...compose, dialect });
    const negative = [composition.negativePrompt, request.negative_prompt ?? ''].filter((p) => p.trim()).join(', ');
    const full: GenerationRequest = { ...request, prompt: composition.prompt, negative_prompt: negative || undefined };
    const extras: GenerationExtras = {
      composedPrompt: composition.prompt,
      adaptersUsed: usedAdaptersOf(composition),
    };
    if (queued) return { composition, job: await this.queue(full, extras), images: null };
    const result = await this.generate(full, extras);
    return { composition, job: result.job, images: result.images };
  }

  /** Records the job and queues it; returns at once. */
  async queue(request: GenerationRequest, extras: GenerationExtras = {}): Promise<GenerationJobEntity> {
    const job = await this.createJob(request, GenerationMode.Queued, extras);
    try {
      await this.jobs.enqueue(JobName.Generation, { jobId: job.id }, { jobId: job.id });
    } catch (error) {
      await this.repository.finish(job.id, GenerationStatus.Failed, { error: `could not be queued: ${String(error)}` });
      throw error;
    }
    return job;
  }

  /**
   * Runs a generation in this process and waits for its images, under the same backend lease as queued jobs.
   * Fails with {@link GenerationFailedError} (502, 504 on timeout, 400 when SD.Next rejected the input).
   */
  async generate(request: GenerationRequest, extras: GenerationExtras = {}): Promise<SyncGenerationResult> {
    const job = await this.createJob(request, GenerationMode.Sync, extras);
    const { attempts, backoffMs } = JOB_RUN_OPTIONS[JobName.Generation];
    const emit: GenerationEmit = (event, payload) => {
      this.bus.publish(event, payload);
      return Promise.resolve();
    };
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.runner.run(job.id, { attempt, maxAttempts: attempts, emit });
      switch (outcome.kind) {
        case 'succeeded':
          return { job: outcome.job, images: outcome.images };
        case 'retry':
          await sleep(backoffMs * 2 ** (attempt - 1));
          continue;
        case 'failed':
          throw new GenerationFailedError(job.id, outcome.reason, outcome.sdNextKind);
        case 'cancelled':
          throw new ConflictError('generation_cancelled', `Generation ${job.id} was cancelled: ${outcome.reason}`);
        case 'skipped':
          throw new ConflictError('generation_finished', `Generation ${job.id} already ended ${outcome.job.status}`);
        case 'missing':
          throw new NotFoundError('Generation job', job.id);
        case 'handedBack':
          // Not given a hand-back signal: a synchronous generation waits in its request, it is never queued elsewhere.
          throw new Error(`Generation ${job.id} was handed back without a queue to take it`);
      }
    }
  }

  async get(id: string): Promise<GenerationJobEntity> {
    const job = await this.repository.findById(id);
    if (!job) throw new NotFoundError('Generation job', id, 'generation_job_not_found');
    return job;
  }

  list(filter: { status?: GenerationStatus; limit: number; offset: number }): Promise<{
    items: GenerationJobEntity[];
    total: number;
  }> {
    return this.repository.list(filter);
  }

  /**
   * A queued job is removed and ends cancelled; a running one is flagged, its runner (in whatever process) sends
   * SD.Next an interrupt and ends it cancelled once txt2img returns. A finished job is a conflict. Waits briefly
   * for the outcome and returns the job as it then is.
   */
  async cancel(id: string): Promise<GenerationJobEntity> {
    const job = await this.get(id);
    if (FINISHED_GENERATION_STATUSES.includes(job.status) || !(await this.repository.requestCancel(id))) {
      const now = await this.get(id);
      throw new ConflictError('generation_finished', `Generation ${id} has already ended (${now.status})`);
    }
    if (job.mode === GenerationMode.Queued) {
      const outcome = await this.jobs.cancel(JobName.Generation, id);
      const removed = outcome === CancelOutcome.Removed || outcome === CancelOutcome.NotFound;
      if (
        removed &&
        (await this.repository.finish(id, GenerationStatus.Cancelled, { error: 'cancelled before it started' }))
      ) {
        this.bus.publish('generation.cancelled', { jobId: id, backendId: null, reason: 'cancelled before it started' });
      }
    }
    const deadline = Date.now() + CANCEL_SETTLE_MS;
    for (;;) {
      const now = await this.get(id);
      if (FINISHED_GENERATION_STATUSES.includes(now.status) || Date.now() >= deadline) return now;
      await sleep(25);
    }
  }

  async image(id: string, index: number): Promise<{ bytes: Buffer; contentType: string }> {
    const job = await this.get(id);
    const ref = job.images?.find((i) => i.index === index);
    if (!ref) throw new NotFoundError('Image', `${index} of generation ${id}`, 'generation_image_not_found');
    const bytes = await this.storage.get(ref.key);
    if (!bytes) throw new NotFoundError('Image', `${index} of generation ${id}`, 'generation_image_not_found');
    return { bytes, contentType: ref.contentType };
  }

  private async createJob(
    request: GenerationRequest,
    mode: GenerationMode,
    extras: GenerationExtras,
  ): Promise<GenerationJobEntity> {
    const params = toTxt2ImgParams(request);
    if (this.backends.ids().length === 0) {
      throw new UnavailableError('no_sdnext_backend', 'No SD.Next backend is configured (set SDNEXT_URL)');
    }
    if (request.backend_id !== undefined && !this.backends.has(request.backend_id)) {
      throw InvalidInputError.field(
        'backend_id',
        `must be one of ${this.backends.ids().join(', ')}`,
        'unknown_backend',
      );
    }
    if (extras.jobId !== undefined) {
      const existing = await this.repository.findById(extras.jobId);
      if (existing) return existing;
    }
    const now = new Date();
    const job = new GenerationJobEntity();
    Object.assign(job, {
      id: extras.jobId ?? randomUUID(),
      status: GenerationStatus.Queued,
      mode,
      backendId: null,
      requestedBackendId: request.backend_id ?? null,
      request: params,
      composedPrompt: extras.composedPrompt ?? null,
      adaptersUsed: extras.adaptersUsed ?? null,
      progress: 0,
      step: 0,
      steps: typeof params.steps === 'number' ? params.steps : 20,
      etaSeconds: null,
      images: null,
      info: null,
      seed: null,
      error: null,
      attempts: 0,
      requestSentAt: null,
      cancelRequestedAt: null,
      createdAt: now,
      startedAt: null,
      finishedAt: null,
      updatedAt: now,
    } satisfies GenerationJobEntity);
    return this.repository.insert(job);
  }
}
