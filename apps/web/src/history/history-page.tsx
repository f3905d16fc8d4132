import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import {
  generationGetOptions,
  resultsDeleteMutation,
  resultsListOptions,
  recipesFromResultMutation,
  resultsPatchMutation,
} from '../api/generated/@tanstack/react-query.gen';
import type { ResultDto } from '../api/generated/types.gen';
import { resultThumbnailUrl } from '../api/urls';
import { formatTime } from '../components/format';
import { QueryState } from '../components/query-state';
import { useAllowed } from '../session/use-session';
import { ExportPanel } from './export-panel';
import { RetentionPanel } from './retention-panel';

const PAGE = 24;
const PARAM_KEYS = ['steps', 'cfg_scale', 'sampler_name', 'enable_hr', 'hr_scale'] as const;

/** The job's own image route: the same stored file as the result's. */
const jobImageUrl = (r: ResultDto): string => `/api/v1/generation/jobs/${r.jobId}/images/${r.imageIndex}`;

function Params({ result }: { result: ResultDto }) {
  const shown = PARAM_KEYS.filter((k) => result.request[k] !== undefined).map(
    (k) => `${k} ${String(result.request[k])}`,
  );
  if (result.width && result.height) shown.unshift(`${result.width}×${result.height}`);
  return (
    <p className="small muted">
      {shown.join(' · ')}
      {result.seed !== null ? ` · seed ${result.seed}` : ''}
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

function useResultActions() {
  const queries = useQueryClient();
  const refresh = () => queries.invalidateQueries({ queryKey: [{ _id: 'resultsList' }] });
  const patch = useMutation({ ...resultsPatchMutation(), onSuccess: refresh });
  const remove = useMutation({ ...resultsDeleteMutation(), onSuccess: refresh });
  return { patch, remove };
}

/** Saves the result as a recipe (prompts, settings, LoRAs, image) and links to it. */
function SaveAsRecipe({ result }: { result: ResultDto }) {
  const save = useMutation(recipesFromResultMutation());
  if (save.data) return <Link to={`/recipes?id=${save.data.id}`}>Recipe saved</Link>;
  return (
    <button
      type="button"
      aria-label={`Save as recipe: ${result.id.slice(0, 8)}`}
      disabled={save.isPending}
      onClick={() => save.mutate({ body: { resultId: result.id } })}
    >
      Save as recipe
    </button>
  );
}

function ResultActions({ result }: { result: ResultDto }) {
  const { patch, remove } = useResultActions();
  const label = result.id.slice(0, 8);
  return (
    <div className="row small">
      <button
        type="button"
        aria-pressed={result.favorite}
        aria-label={`Favorite ${label}`}
        onClick={() => patch.mutate({ path: { id: result.id }, body: { favorite: !result.favorite } })}
      >
        {result.favorite ? '★' : '☆'}
      </button>
      <label>
        Rating{' '}
        <select
          aria-label={`Rating of ${label}`}
          value={result.rating}
          onChange={(e) => patch.mutate({ path: { id: result.id }, body: { rating: Number(e.target.value) } })}
        >
          {[0, 1, 2, 3, 4, 5].map((n) => (
            <option key={n} value={n}>
              {n === 0 ? '–' : n}
            </option>
          ))}
        </select>
      </label>
      <button
        type="button"
        aria-label={`Delete ${label}`}
        disabled={remove.isPending}
        onClick={() => {
          if (window.confirm('Delete this image?')) remove.mutate({ path: { id: result.id } });
        }}
      >
        Delete
      </button>
      <SaveAsRecipe result={result} />
      {(patch.error ?? remove.error) && <span role="alert">Could not save</span>}
    </div>
  );
}

/**
 * Generated images (results), newest first, optionally favorites only; the open image (`?job=`), the page cursor
 * (`?cursor=`) and the filter (`?favorite=1`) are in the URL.
 */
export function HistoryPage() {
  const [params, setParams] = useSearchParams();
  const cursor = params.get('cursor') ?? undefined;
  const favorite = params.get('favorite') === '1' ? true : undefined;
  const open = params.get('job');
  const results = useQuery({
    ...resultsListOptions({ query: { limit: PAGE, cursor, favorite } }),
    placeholderData: keepPreviousData,
  });
  const go = (next: Record<string, string | null>) => {
    const copy = new URLSearchParams(params);
    for (const [k, v] of Object.entries(next)) {
      if (v === null) copy.delete(k);
      else copy.set(k, v);
    }
    setParams(copy);
  };
  const items = results.data?.items ?? [];
  const [selected, setSelected] = useState<string[]>([]);
  const isAdmin = useAllowed('admin');
  const toggle = (id: string, on: boolean) =>
    setSelected((now) => (on ? [...now.filter((x) => x !== id), id] : now.filter((x) => x !== id)));
  return (
    <section className="page">
      <h1>History</h1>
      {isAdmin && <RetentionPanel />}
      <div className="row small">
        <label className="row small">
          <input
            type="checkbox"
            checked={favorite === true}
            onChange={(e) => go({ favorite: e.target.checked ? '1' : null, cursor: null })}
          />
          Favorites only
        </label>
        {items.length > 0 && (
          <button type="button" onClick={() => setSelected((now) => [...new Set([...now, ...items.map((r) => r.id)])])}>
            Select page
          </button>
        )}
      </div>
      {selected.length > 0 && <ExportPanel ids={selected} onClear={() => setSelected([])} />}
      <QueryState query={results} />
      {results.data && items.length === 0 && !cursor && (
        <p>
          No image yet. <Link to="/studio">Generate one in the studio</Link>.
        </p>
      )}
      <ul className="plain history-grid" aria-label="Generated images">
        {items.map((result) => (
          <li key={result.id} className="panel history-item">
            <button
              type="button"
              className="image-button"
              onClick={() => go({ job: result.jobId })}
              aria-label={`Open image of ${result.jobId.slice(0, 8)}`}
            >
              <img src={resultThumbnailUrl(result.id)} alt="" loading="lazy" width={256} height={256} />
            </button>
            <label className="row small">
              <input
                type="checkbox"
                checked={selected.includes(result.id)}
                onChange={(e) => toggle(result.id, e.target.checked)}
                aria-label={`Select ${result.id.slice(0, 8)}`}
              />
              Select
            </label>
            <p className="small prompt-line">{result.prompt}</p>
            <Params result={result} />
            {result.loras.length > 0 && (
              <p className="small">
                LoRAs:{' '}
                {result.loras.map((l, i) => (
                  <span key={`${l.name}-${i}`}>
                    {i > 0 && ', '}
                    {l.adapterId ? <Link to={`/adapters/${l.adapterId}`}>{l.name}</Link> : l.name}:{l.weight}
                  </span>
                ))}
              </p>
            )}
            <ResultActions result={result} />
            <div className="row small">
              <span className="muted">{formatTime(result.finishedAt)}</span>
              <Link to={`/studio?from=${result.jobId}`}>Reuse parameters</Link>
              <a href={jobImageUrl(result)} download={`generation-${result.jobId.slice(0, 8)}-${result.imageIndex}`}>
                Download
              </a>
            </div>
          </li>
        ))}
      </ul>
      {(cursor || results.data?.nextCursor) && (
        <nav className="row" aria-label="Pages">
          <button type="button" disabled={!cursor} onClick={() => go({ cursor: null })}>
            Newest
          </button>
          <button
            type="button"
            disabled={!results.data?.nextCursor}
            onClick={() => go({ cursor: results.data?.nextCursor ?? null })}
          >
            Older
          </button>
        </nav>
      )}
      {open && <Viewer jobId={open} onClose={() => go({ job: null })} />}
    </section>
  );
}
