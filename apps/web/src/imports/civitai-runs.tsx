import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { toProblem } from '../api/client';
import { civitaiRunsListOptions, civitaiRunsStartMutation } from '../api/generated/@tanstack/react-query.gen';
import type { CivitaiRunDto } from '../api/generated/types.gen';
import { useLiveEvent } from '../api/live-events';
import { formatTime } from '../components/format';
import { QueryState } from '../components/query-state';
import { useAllowed } from '../session/use-session';

const KIND_LABEL: Record<CivitaiRunDto['kind'], string> = { lookup: 'Lookup', update_check: 'Update check' };

function RunItem({ run }: { run: CivitaiRunDto }) {
  const live = useLiveEvent('civitai.progress', run.id);
  const running = run.status === 'running' || run.status === 'queued';
  const c = running && live ? live.counts : run.counts;
  return (
    <li className="panel" aria-label={`${KIND_LABEL[run.kind]} ${formatTime(run.createdAt)} ${run.status}`}>
      <div className="row">
        <span
          className={`badge ${run.status === 'completed' ? 'ok' : run.status === 'failed' ? 'bad' : ''}`}
          data-testid="civitai-run-status"
        >
          {run.status}
        </span>
        <span>{KIND_LABEL[run.kind]}</span>
        <span>{formatTime(run.createdAt)}</span>
        <span className="muted small">by {run.trigger}</span>
      </div>
      {running && <progress aria-label="Civitai run progress" max={c.total || undefined} value={c.done} />}
      <p className="small">
        {c.done}/{c.total} done · found {c.found} · not found {c.notFound}
        {run.kind === 'update_check' ? ` · with updates ${c.withUpdates}` : ''} · failed {c.failed}
      </p>
      {run.error && <p className="error-text">{run.error}</p>}
    </li>
  );
}

/** Civitai runs (bulk lookups, update checks) with their live progress, and buttons that start them. */
export function CivitaiRuns() {
  const queries = useQueryClient();
  const runs = useQuery({
    ...civitaiRunsListOptions(),
    refetchInterval: (query) =>
      query.state.data?.some((r) => r.status === 'queued' || r.status === 'running') ? 1_000 : false,
  });
  const start = useMutation({
    ...civitaiRunsStartMutation(),
    onSuccess: () => queries.invalidateQueries({ queryKey: [{ _id: 'civitaiRunsList' }] }),
  });
  const canStart = useAllowed('editor');
  return (
    <section aria-labelledby="civitai-runs-h">
      <h2 id="civitai-runs-h">Civitai runs</h2>
      <div className="row">
        <button type="button" disabled={!canStart} onClick={() => start.mutate({ body: { kind: 'lookup' } })}>
          Look up unmatched files
        </button>
        <button type="button" disabled={!canStart} onClick={() => start.mutate({ body: { kind: 'update_check' } })}>
          Check linked adapters for updates
        </button>
        {start.error && (
          <span role="alert" className="error-text">
            {toProblem(start.error).message}
          </span>
        )}
      </div>
      <QueryState query={runs} />
      {runs.data?.length === 0 && <p className="muted">No Civitai run yet.</p>}
      <ul className="plain" aria-label="Civitai runs">
        {runs.data?.map((run) => (
          <RunItem key={run.id} run={run} />
        ))}
      </ul>
    </section>
  );
}
