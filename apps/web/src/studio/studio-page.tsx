import { type ReactNode, useState } from 'react';
import { useSearchParams } from 'react-router';
import { fieldMessage, toProblem } from '../api/client';
import type { GenerationJobDto } from '../api/generated/types.gen';
import { formatTime, promptOf } from '../components/format';
import { QueryState } from '../components/query-state';
import { RoleNote } from '../session/role-note';
import { useAllowed } from '../session/use-session';
import { JobProgress } from './job-progress';
import { EMPTY_FORM, formFromJob, type StudioForm, toGenerationRequest } from './studio-params';
import {
  useBackendOptions,
  useBackends,
  useCancelGeneration,
  useJob,
  useQueueGeneration,
  useQueueList,
} from './use-studio';

type TextKey = Exclude<keyof StudioForm, 'enable_hr'>;

function JobRow({ job }: { job: GenerationJobDto }) {
  const cancel = useCancelGeneration();
  const canCancel = useAllowed('editor');
  const open = job.status === 'queued' || job.status === 'running';
  return (
    <li className="panel job" aria-label={`Generation ${job.id.slice(0, 8)} ${job.status}`}>
      <div className="row">
        <span className={`badge ${job.status === 'succeeded' ? 'ok' : job.status === 'failed' ? 'bad' : ''}`}>
          {job.status}
        </span>
        <span className="mono small">{job.id.slice(0, 8)}</span>
        <span className="muted small">
          {formatTime(job.createdAt)} {job.backendId ? `· ${job.backendId}` : ''}
        </span>
        {open && (
          <button
            type="button"
            onClick={() => cancel.mutate({ path: { jobId: job.id } })}
            disabled={!canCancel || cancel.isPending || job.cancelRequested}
          >
            Cancel
          </button>
        )}
      </div>
      <p className="small prompt-line">{promptOf(job)}</p>
      {open && <JobProgress job={job} />}
      {job.status === 'succeeded' && <JobProgress job={job} />}
      {job.error && <p className="error-text small">{job.error}</p>}
      {cancel.error && (
        <p role="alert" className="error-text small">
          {toProblem(cancel.error).message}
        </p>
      )}
      {job.images.length > 0 && (
        <div className="row results">
          {job.images.map((image) => (
            <a key={image.index} href={image.url} target="_blank" rel="noreferrer">
              <img
                src={image.url}
                alt={`Result ${image.index + 1} of generation ${job.id.slice(0, 8)}`}
                width={128}
                height={128}
              />
            </a>
          ))}
        </div>
      )}
    </li>
  );
}

function StudioFormPanel({ initial }: { initial: StudioForm }) {
  const [form, setForm] = useState<StudioForm>(initial);
  const backends = useBackends();
  const backendId = form.backend_id || backends.data?.[0]?.id;
  const options = useBackendOptions(backendId);
  const queue = useQueueGeneration();
  const canQueue = useAllowed('editor');
  const problem = queue.error ? toProblem(queue.error) : null;
  const set = (key: TextKey) => (e: { target: { value: string } }) => setForm({ ...form, [key]: e.target.value });
  const field = (key: TextKey, label: string, control?: ReactNode) => {
    const error = fieldMessage(problem, key);
    return (
      <div className="field" key={key}>
        <label htmlFor={`s-${key}`}>{label}</label>
        {control ?? (
          <input
            id={`s-${key}`}
            value={form[key]}
            onChange={set(key)}
            inputMode="decimal"
            aria-invalid={error ? true : undefined}
          />
        )}
        {error && (
          <span className="field-error" role="alert" id={`s-${key}-error`}>
            {error}
          </span>
        )}
      </div>
    );
  };
  return (
    <form
      className="panel studio-form"
      aria-labelledby="params-h"
      onSubmit={(e) => {
        e.preventDefault();
        queue.mutate({ body: toGenerationRequest(form) });
      }}
    >
      <h2 id="params-h">Parameters</h2>
      {field('prompt', 'Prompt', <textarea id="s-prompt" rows={4} value={form.prompt} onChange={set('prompt')} />)}
      {field(
        'negative_prompt',
        'Negative prompt',
        <textarea id="s-negative_prompt" rows={2} value={form.negative_prompt} onChange={set('negative_prompt')} />,
      )}
      <div className="param-grid">
        {field(
          'backend_id',
          'Backend',
          <select id="s-backend_id" value={form.backend_id} onChange={set('backend_id')}>
            <option value="">First idle backend</option>
            {backends.data?.map((b) => (
              <option key={b.id} value={b.id}>
                {b.id}
              </option>
            ))}
          </select>,
        )}
        {field(
          'sampler_name',
          'Sampler',
          <select id="s-sampler_name" value={form.sampler_name} onChange={set('sampler_name')}>
            <option value="">Backend default</option>
            {options.data?.samplers.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>,
        )}
        {field(
          'checkpoint',
          'Checkpoint',
          <select id="s-checkpoint" value={form.checkpoint} onChange={set('checkpoint')}>
            <option value="">Loaded checkpoint</option>
            {options.data?.checkpoints.map((c) => (
              <option key={c.title} value={c.title}>
                {c.name}
              </option>
            ))}
          </select>,
        )}
        {field('steps', 'Steps')}
        {field('cfg_scale', 'CFG scale')}
        {field('width', 'Width')}
        {field('height', 'Height')}
        {field('seed', 'Seed (-1 random)')}
        {field('batch_size', 'Batch size')}
        {field('n_iter', 'Batches')}
      </div>
      {options.error && <p className="error-text small">Backend options: {toProblem(options.error).message}</p>}
      <label>
        <input
          type="checkbox"
          checked={form.enable_hr}
          onChange={(e) => setForm({ ...form, enable_hr: e.target.checked })}
        />{' '}
        Hires fix
      </label>
      {form.enable_hr && (
        <div className="param-grid">
          {field('hr_scale', 'Hires scale')}
          {field(
            'hr_upscaler',
            'Upscaler',
            <input id="s-hr_upscaler" value={form.hr_upscaler} onChange={set('hr_upscaler')} placeholder="Latent" />,
          )}
          {field('hr_second_pass_steps', 'Hires steps')}
          {field('denoising_strength', 'Denoising strength')}
        </div>
      )}
      <div className="row">
        <button type="submit" className="primary" disabled={!canQueue || queue.isPending}>
          Queue generation
        </button>
        <RoleNote need="editor" action="queueing a generation" />
        {queue.data && <span role="status">Queued {queue.data.id.slice(0, 8)}.</span>}
        {problem && problem.fields.length === 0 && (
          <span role="alert" className="error-text">
            {problem.message}
          </span>
        )}
      </div>
    </form>
  );
}

export function StudioPage() {
  const [params] = useSearchParams();
  const from = params.get('from');
  const reused = useJob(from);
  const backends = useBackends();
  const jobs = useQueueList();
  const initial: StudioForm | null = from
    ? reused.data
      ? formFromJob(reused.data)
      : null
    : { ...EMPTY_FORM, prompt: params.get('prompt') ?? '', negative_prompt: params.get('negative') ?? '' };
  return (
    <section className="page">
      <h1>Generation studio</h1>
      <section className="panel" aria-labelledby="backends-h">
        <h2 id="backends-h">Backends</h2>
        <QueryState query={backends} />
        {backends.data?.length === 0 && <p>No SD.Next backend is configured (SDNEXT_URL).</p>}
        <ul className="plain row">
          {backends.data?.map((b) => (
            <li key={b.id}>
              <span className={b.reachable ? 'badge ok' : 'badge bad'}>
                {b.reachable ? 'reachable' : 'unreachable'}
              </span>{' '}
              <strong>{b.id}</strong> {b.busy ? 'busy' : 'idle'}{' '}
              <span className="muted small">{b.currentModel ?? b.error ?? ''}</span>
            </li>
          ))}
        </ul>
      </section>
      <div className="composer-layout">
        {initial ? (
          <StudioFormPanel key={from ?? 'new'} initial={initial} />
        ) : (
          <QueryState query={reused} label="job" />
        )}
        <section aria-labelledby="queue-h">
          <h2 id="queue-h">Queue and results</h2>
          <QueryState query={jobs} />
          <ul className="plain" aria-label="Generation jobs">
            {jobs.data?.items.map((job) => (
              <JobRow key={job.id} job={job} />
            ))}
          </ul>
        </section>
      </div>
    </section>
  );
}
