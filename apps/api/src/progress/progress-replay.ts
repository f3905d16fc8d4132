import { Injectable } from '@nestjs/common';
import {
  type HashRunEntity,
  HashRunService,
  HashRunStatus,
  type ImportRunEntity,
  ImportRunService,
  ImportRunStatus,
} from '@app/adapters';
import {
  FINISHED_JOB_ROW_STATUSES,
  type JobInfo,
  JobName,
  JobQueue,
  JobStatus,
  NotFoundError,
  type ProgressMessage,
} from '@app/core';
import { type DeliveryJobEntity, DeliveryService } from '@app/delivery';
import { type GenerationJobEntity, generationImagePath, GenerationService, GenerationStatus } from '@app/generation';

/** Where a job stands, sent in the acknowledgement of `subscribe`. */
export interface JobState {
  name: JobName;
  status: string;
  /** 0..1 */
  progress: number;
}

/** A job's state and the events that tell it, as a client that had been subscribed all along last saw them. */
export interface JobReplay {
  state: JobState;
  events: ProgressMessage[];
}

/**
 * What a client that subscribes to a job late is sent at once: the job's status and progress, and the event that a
 * subscriber would have seen last (progress of a running generation, the final event of a finished job). Read from
 * the job's row, so it works whichever process runs the job.
 */
@Injectable()
export class ProgressReplay {
  constructor(
    private readonly generations: GenerationService,
    private readonly deliveries: DeliveryService,
    private readonly imports: ImportRunService,
    private readonly hashes: HashRunService,
    private readonly jobs: JobQueue,
  ) {}

  async of(jobId: string): Promise<JobReplay | null> {
    const generation = await orNull(this.generations.get(jobId));
    if (generation) return generationReplay(generation);
    const delivery = await orNull(this.deliveries.get(jobId));
    if (delivery) return deliveryReplay(delivery);
    const run = await orNull(this.imports.get(jobId));
    if (run) return importReplay(run);
    const hashRun = await orNull(this.hashes.get(jobId));
    if (hashRun) return hashReplay(hashRun);
    const diagnostic = await this.jobs.get(JobName.Diagnostic, jobId);
    return diagnostic ? queueJobReplay(diagnostic) : null;
  }
}

async function orNull<T>(lookup: Promise<T>): Promise<T | null> {
  try {
    return await lookup;
  } catch (error) {
    if (error instanceof NotFoundError) return null;
    throw error;
  }
}

function generationReplay(job: GenerationJobEntity): JobReplay {
  const state = { name: JobName.Generation, status: job.status, progress: job.progress };
  const jobId = job.id;
  switch (job.status) {
    case GenerationStatus.Queued:
      return { state, events: [] };
    case GenerationStatus.Running: {
      if (!job.backendId) return { state, events: [] };
      const { progress, step, steps, etaSeconds } = job;
      const payload = { jobId, backendId: job.backendId, progress, step, steps, etaSeconds };
      return { state, events: [{ event: 'generation.progress', payload: { ...payload, emittedAt: isoNow() } }] };
    }
    case GenerationStatus.Succeeded: {
      const images = (job.images ?? []).map((image) => ({
        index: image.index,
        url: generationImagePath(jobId, image.index),
        contentType: image.contentType,
      }));
      const payload = { jobId, backendId: job.backendId ?? '', images, seed: job.seed };
      return { state, events: [{ event: 'generation.completed', payload }] };
    }
    case GenerationStatus.Failed:
      return { state, events: [{ event: 'generation.failed', payload: ended(job, 'failed') }] };
    case GenerationStatus.Cancelled:
      return { state, events: [{ event: 'generation.cancelled', payload: ended(job, 'cancelled') }] };
  }
}

const ended = (job: GenerationJobEntity, fallback: string) => ({
  jobId: job.id,
  backendId: job.backendId,
  reason: job.error ?? fallback,
});

function deliveryReplay(job: DeliveryJobEntity): JobReplay {
  const finished = FINISHED_JOB_ROW_STATUSES.includes(job.status);
  return {
    state: { name: JobName.Delivery, status: job.status, progress: finished ? 1 : 0 },
    events: [{ event: 'delivery.updated', payload: { jobId: job.id, status: job.status, error: job.error } }],
  };
}

function importReplay(run: ImportRunEntity): JobReplay {
  const finished = run.status === ImportRunStatus.Completed || run.status === ImportRunStatus.Failed;
  const state = { name: JobName.Import, status: run.status, progress: finished ? 1 : 0 };
  if (finished) {
    return {
      state,
      events: [{ event: 'import.completed', payload: { jobId: run.id, status: run.status, counts: run.counts } }],
    };
  }
  const payload = { jobId: run.id, counts: run.counts, processed: run.counts.seen, total: null };
  return { state, events: run.status === ImportRunStatus.Running ? [{ event: 'import.progress', payload }] : [] };
}

function hashReplay(run: HashRunEntity): JobReplay {
  const { counts } = run;
  const done = counts.hashed + counts.failed + counts.skipped;
  const active = run.status === HashRunStatus.Queued || run.status === HashRunStatus.Running;
  const state = {
    name: JobName.Hash,
    status: run.status,
    progress: active ? (counts.total > 0 ? done / counts.total : 0) : 1,
  };
  if (!active) {
    const payload = { jobId: run.id, status: run.status, counts, error: run.error };
    return { state, events: [{ event: 'hash.completed', payload }] };
  }
  return {
    state,
    events:
      run.status === HashRunStatus.Running ? [{ event: 'hash.progress', payload: { jobId: run.id, counts } }] : [],
  };
}

function queueJobReplay(job: JobInfo): JobReplay {
  const state = { name: job.name, status: job.status, progress: job.progress };
  const base = { jobId: job.id, name: job.name };
  switch (job.status) {
    case JobStatus.Queued:
      return { state, events: [] };
    case JobStatus.Running:
      return { state, events: [{ event: 'job.progress', payload: { ...base, progress: job.progress } }] };
    case JobStatus.Completed:
      return { state, events: [{ event: 'job.completed', payload: { ...base, result: job.result } }] };
    case JobStatus.Failed:
      return {
        state,
        events: [{ event: 'job.failed', payload: { ...base, error: job.error ?? 'failed', willRetry: false } }],
      };
    case JobStatus.Cancelled:
      return { state, events: [{ event: 'job.cancelled', payload: base }] };
  }
}

const isoNow = (): string => new Date().toISOString();
