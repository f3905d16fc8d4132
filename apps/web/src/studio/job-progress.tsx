import type { GenerationJobDto } from '../api/generated/types.gen';
import { useLiveEvent } from '../api/live-events';

/** The job's progress: live over Socket.IO while it runs, else what the server last stored. */
export function JobProgress({ job }: { job: GenerationJobDto }) {
  const live = useLiveEvent('generation.progress', job.id);
  const done = job.status === 'succeeded';
  const fraction = done ? 1 : Math.max(job.progress, live?.progress ?? 0);
  const step = live?.step ?? job.step;
  const steps = live?.steps ?? job.steps;
  const percent = Math.round(fraction * 100);
  return (
    <div className="job-progress">
      <progress max={100} value={percent} aria-label={`Progress of generation ${job.id.slice(0, 8)}`} />
      <span className="small" data-testid="progress-text">
        {percent} %{steps > 0 && !done ? ` · step ${step}/${steps}` : ''}
        {live?.etaSeconds ? ` · ${Math.round(live.etaSeconds)} s left` : ''}
      </span>
    </div>
  );
}
