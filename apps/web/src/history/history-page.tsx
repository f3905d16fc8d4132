import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useEffect, useRef } from 'react';
import { Link, useSearchParams } from 'react-router';
import { generationGetOptions, generationListOptions } from '../api/generated/@tanstack/react-query.gen';
import type { GenerationJobDto } from '../api/generated/types.gen';
import { formatTime, promptOf } from '../components/format';
import { QueryState } from '../components/query-state';

const PAGE = 24;
const PARAM_KEYS = [
  'steps',
  'cfg_scale',
  'width',
  'height',
  'sampler_name',
  'batch_size',
  'n_iter',
  'enable_hr',
  'hr_scale',
] as const;

function Params({ job }: { job: GenerationJobDto }) {
  const shown = PARAM_KEYS.filter((k) => job.request[k] !== undefined).map((k) => `${k} ${String(job.request[k])}`);
  return (
    <p className="small muted">
      {shown.join(' · ')}
      {job.seed !== null ? ` · seed ${job.seed}` : ''}
    </p>
  );
}

function Viewer({ jobId, onClose }: { jobId: string; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const job = useQuery(generationGetOptions({ path: { jobId } }));
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
  }, []);
  return (
    <dialog ref={ref} className="viewer" onClose={onClose} aria-label="Generated image">
      <QueryState query={job} />
      {job.data?.images.map((image) => (
        <figure key={image.index}>
          <img src={image.url} alt={`Image ${image.index + 1}: ${job.data?.composedPrompt ?? ''}`} />
          <figcaption className="row">
            <a href={image.url} download={`generation-${jobId.slice(0, 8)}-${image.index}`}>
              Download
            </a>
          </figcaption>
        </figure>
      ))}
      <form method="dialog">
        <button type="submit">Close</button>
      </form>
    </dialog>
  );
}

/** Generated images, newest first; the open image is in the URL (`?job=`), the page too (`?page=`). */
export function HistoryPage() {
  const [params, setParams] = useSearchParams();
  const page = Math.max(1, Number(params.get('page')) || 1);
  const open = params.get('job');
  const jobs = useQuery({
    ...generationListOptions({ query: { status: 'succeeded', limit: PAGE, offset: (page - 1) * PAGE } }),
    placeholderData: keepPreviousData,
  });
  const pages = Math.max(1, Math.ceil((jobs.data?.total ?? 0) / PAGE));
  const go = (next: Record<string, string | null>) => {
    const copy = new URLSearchParams(params);
    for (const [k, v] of Object.entries(next)) {
      if (v === null) copy.delete(k);
      else copy.set(k, v);
    }
    setParams(copy);
  };
  return (
    <section className="page">
      <h1>History</h1>
      <QueryState query={jobs} />
      {jobs.data?.total === 0 && (
        <p>
          No image yet. <Link to="/studio">Generate one in the studio</Link>.
        </p>
      )}
      <ul className="plain history-grid" aria-label="Generated images">
        {jobs.data?.items.map((job) => (
          <li key={job.id} className="panel history-item">
            {job.images[0] && (
              <button
                type="button"
                className="image-button"
                onClick={() => go({ job: job.id })}
                aria-label={`Open image of ${job.id.slice(0, 8)}`}
              >
                <img src={job.images[0].url} alt="" loading="lazy" width={256} height={256} />
              </button>
            )}
            <p className="small prompt-line">{promptOf(job)}</p>
            <Params job={job} />
            {job.adaptersUsed && job.adaptersUsed.length > 0 && (
              <p className="small">
                LoRAs:{' '}
                {job.adaptersUsed.map((a, i) => (
                  <span key={`${a.name}-${i}`}>
                    {i > 0 && ', '}
                    {a.id ? <Link to={`/adapters/${a.id}`}>{a.name}</Link> : a.name}
                    {a.weight !== undefined ? `:${a.weight}` : ''}
                  </span>
                ))}
              </p>
            )}
            <div className="row small">
              <span className="muted">{formatTime(job.finishedAt)}</span>
              <Link to={`/studio?from=${job.id}`}>Reuse parameters</Link>
              {job.images.map((image) => (
                <a key={image.index} href={image.url} download={`generation-${job.id.slice(0, 8)}-${image.index}`}>
                  Download {job.images.length > 1 ? image.index + 1 : ''}
                </a>
              ))}
            </div>
          </li>
        ))}
      </ul>
      {pages > 1 && (
        <nav className="row" aria-label="Pages">
          <button type="button" disabled={page <= 1} onClick={() => go({ page: String(page - 1) })}>
            Newer
          </button>
          <span>
            Page {page} of {pages}
          </span>
          <button type="button" disabled={page >= pages} onClick={() => go({ page: String(page + 1) })}>
            Older
          </button>
        </nav>
      )}
      {open && <Viewer jobId={open} onClose={() => go({ job: null })} />}
    </section>
  );
}
