import type { GenerationImageRef, GenerationJobEntity } from './generation-job.entity.js';
import type { Txt2ImgResult } from './sdnext/index.js';

/** Emits a progress event the way the running job does (bus in process, queue progress in a worker). */
export type ResultEmit = (
  event: 'result.created',
  payload: {
    jobId: string;
    resultId: string;
    imageIndex: number;
    backendId: string;
    contentType: string;
    url: string;
  },
) => Promise<void>;

/** The images of one answer as they are to be stored, and how to record them once the job row has ended. */
export interface PreparedImages {
  /** Bytes to store per image index (a PNG with its infotext chunk, others as the backend sent them). */
  bytes: Buffer[];
  /** Records the stored images as results, before the job row ends (finished now); never throws. */
  record(job: GenerationJobEntity, refs: GenerationImageRef[], emit: ResultEmit): Promise<void>;
}

/**
 * Port through which the results lib sees every image a generation stores, whichever path made it (sync, queued,
 * compose-and-generate, SD.Next delivery): generation calls it, results implements it.
 */
export abstract class GenerationResultSink {
  abstract prepare(job: GenerationJobEntity, backendId: string, result: Txt2ImgResult): Promise<PreparedImages>;
}
