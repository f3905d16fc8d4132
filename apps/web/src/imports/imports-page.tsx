import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useSearchParams } from 'react-router';
import { fieldMessage, toProblem } from '../api/client';
import { importsListOptions, importsStartMutation } from '../api/generated/@tanstack/react-query.gen';
import type { ImportRunDto, StartImportDto } from '../api/generated/types.gen';
import { useLiveEvent } from '../api/live-events';
import { formatTime } from '../components/format';
import { QueryState } from '../components/query-state';
import { RoleNote } from '../session/role-note';
import { useAllowed } from '../session/use-session';
import { CivitaiRuns } from './civitai-runs';

const COUNT_KEYS = ['seen', 'added', 'updated', 'unchanged', 'moved', 'missing', 'restored', 'failed'] as const;
const lines = (text: string): string[] =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);

function useImportRuns() {
  return useQuery({
    ...importsListOptions(),
    refetchInterval: (query) =>
      query.state.data?.some((r) => r.status === 'queued' || r.status === 'running') ? 2_000 : false,
  });
}

function useStartImport() {
  const queries = useQueryClient();
  return useMutation({
    ...importsStartMutation(),
    onSuccess: () => queries.invalidateQueries({ queryKey: [{ _id: 'importsList' }] }),
  });
}

function StartForm() {
  const [paths, setPaths] = useState('');
  const [ignore, setIgnore] = useState('');
  const [dryRun, setDryRun] = useState(false);
  const [forceResync, setForceResync] = useState(false);
  const [hash, setHash] = useState<'lazy' | 'full'>('lazy');
  const start = useStartImport();
  const canStart = useAllowed('admin');
  const problem = start.error ? toProblem(start.error) : null;
  return (
    <form
      className="panel"
      aria-labelledby="start-h"
      onSubmit={(e) => {
        e.preventDefault();
        const body: StartImportDto = { dryRun, forceResync, hash };
        if (lines(paths).length > 0) body.paths = lines(paths);
        if (lines(ignore).length > 0) body.ignore = lines(ignore);
        start.mutate({ body });
      }}
    >
      <h2 id="start-h">Start an import</h2>
      <div className="field">
        <label htmlFor="i-paths">Paths (one per line; empty = every library root)</label>
        <textarea id="i-paths" rows={2} value={paths} onChange={(e) => setPaths(e.target.value)} />
        {fieldMessage(problem, 'paths') && <span className="field-error">{fieldMessage(problem, 'paths')}</span>}
      </div>
      <div className="field">
        <label htmlFor="i-ignore">Ignore globs (one per line)</label>
        <textarea
          id="i-ignore"
          rows={2}
          value={ignore}
          onChange={(e) => setIgnore(e.target.value)}
          placeholder="old/**"
        />
        {fieldMessage(problem, 'ignore') && <span className="field-error">{fieldMessage(problem, 'ignore')}</span>}
      </div>
      <div className="row">
        <label>
          <input type="checkbox" checked={dryRun} onChange={(e) => setDryRun(e.target.checked)} /> Dry run
        </label>
        <label>
          <input type="checkbox" checked={forceResync} onChange={(e) => setForceResync(e.target.checked)} /> Force
          resync
        </label>
        <label>
          Hashes{' '}
          <select value={hash} onChange={(e) => setHash(e.target.value as 'lazy' | 'full')}>
            <option value="lazy">lazy (when needed)</option>
            <option value="full">full (every new or changed file)</option>
          </select>
        </label>
        <button type="submit" className="primary" disabled={!canStart || start.isPending}>
          Start import
        </button>
      </div>
      <RoleNote need="admin" action="starting an import" />
      {problem && problem.fields.length === 0 && (
        <p role="alert" className="error-text">
          {problem.message}
        </p>
      )}
    </form>
  );
}

function RunItem({ run, expanded }: { run: ImportRunDto; expanded: boolean }) {
  const live = useLiveEvent('import.progress', run.id);
  const running = run.status === 'running' || run.status === 'queued';
  const counts = running && live ? live.counts : run.counts;
  return (
    <li className="panel" aria-label={`Import ${formatTime(run.createdAt)} ${run.status}`}>
      <div className="row">
        <span
          className={`badge ${run.status === 'completed' ? 'ok' : run.status === 'failed' ? 'bad' : ''}`}
          data-testid="import-status"
        >
          {run.status}
        </span>
        <span>{formatTime(run.createdAt)}</span>
        {run.dryRun && <span className="badge">dry run</span>}
        {run.forceResync && <span className="badge">force</span>}
        <span className="muted small">hash {run.hash}</span>
        <span className="muted small">{run.roots.join(', ')}</span>
      </div>
      {running && (
        <div className="job-progress">
          <progress
            aria-label="Import progress"
            max={live?.total ?? undefined}
            value={live?.total ? live.processed : undefined}
          />
          <span className="small">
            {live ? `${live.processed}${live.total ? ` / ${live.total}` : ''} files` : 'waiting…'}{' '}
            {live?.currentPath ?? ''}
          </span>
        </div>
      )}
      <p className="small">{COUNT_KEYS.map((k) => `${k} ${counts[k]}`).join(' · ')}</p>
      {run.error && <p className="error-text">{run.error}</p>}
      {run.failureCount > 0 && (
        <details open={expanded}>
          <summary>{run.failureCount} failures</summary>
          <ul>
            {run.failures.map((f) => (
              <li key={f.path} className="small">
                <span className="mono">{f.path}</span>: {f.reason}
              </li>
            ))}
          </ul>
        </details>
      )}
    </li>
  );
}

export function ImportsPage() {
  const runs = useImportRuns();
  const [params] = useSearchParams();
  const selected = params.get('run');
  return (
    <section className="page">
      <h1>Imports</h1>
      <StartForm />
      <section aria-labelledby="runs-h">
        <h2 id="runs-h">Runs</h2>
        <QueryState query={runs} />
        {runs.data?.length === 0 && <p className="muted">No import has run yet.</p>}
        <ul className="plain" aria-label="Import runs">
          {runs.data?.map((run) => (
            <RunItem key={run.id} run={run} expanded={run.id === selected} />
          ))}
        </ul>
      </section>
      <CivitaiRuns />
    </section>
  );
}
