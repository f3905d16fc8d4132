export const JOBS_OPTIONS = Symbol('JOBS_OPTIONS');

export interface JobsOptions {
  /** Embedded mode: run jobs in this process (the API does; the CLI only enqueues). */
  runJobs: boolean;
  /** Scale-out mode: forward BullMQ queue events to this process's event bus (API instances do). */
  forwardEvents: boolean;
}
