import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { toProblem } from '../api/client';
import {
  downloadsListExamplesOptions,
  downloadsStartExamplesMutation,
} from '../api/generated/@tanstack/react-query.gen';
import type { AdapterDto } from '../api/generated/types.gen';
import { formatTime, nsfwLabel } from '../components/format';
import { QueryState } from '../components/query-state';
import { useAllowed } from '../session/use-session';

const text = (v: unknown): string | null => (typeof v === 'string' && v ? v : null);

/** The adapter's Civitai example images, stored for offline viewing, with a button to fetch them. */
export function ExampleImages({ adapter }: { adapter: AdapterDto }) {
  const queries = useQueryClient();
  // Set when a fetch job was started: the list is read again until it is newer than that.
  const [startedAt, setStartedAt] = useState<string | null>(null);
  const list = useQuery({
    ...downloadsListExamplesOptions({ path: { id: adapter.id } }),
    refetchInterval: (q) => {
      const fetchedAt = q.state.data?.fetchedAt ?? null;
      return startedAt !== null && (fetchedAt === null || fetchedAt < startedAt) ? 1_000 : false;
    },
  });
  const start = useMutation({
    ...downloadsStartExamplesMutation(),
    onSuccess: () => {
      setStartedAt(new Date().toISOString());
      void queries.invalidateQueries({ queryKey: [{ _id: 'downloadsListExamples' }] });
    },
  });
  const canFetch = useAllowed('editor');
  if (!adapter.civitaiVersionId) return null;
  return (
    <section className="panel" aria-labelledby="examples-h">
      <h2 id="examples-h">Example images</h2>
      <div className="row">
        <button
          type="button"
          disabled={!canFetch || start.isPending}
          onClick={() => start.mutate({ path: { id: adapter.id } })}
        >
          {list.data?.fetchedAt ? 'Fetch again from Civitai' : 'Fetch from Civitai'}
        </button>
        {list.data?.fetchedAt && <span className="muted small">stored {formatTime(list.data.fetchedAt)}</span>}
        {start.error && (
          <span role="alert" className="error-text">
            {toProblem(start.error).message}
          </span>
        )}
      </div>
      <QueryState query={list} />
      {list.data?.images.length === 0 && <p className="muted">None stored yet.</p>}
      <ul className="plain example-grid" aria-label="Example images">
        {list.data?.images.map((image) => {
          const prompt = text(image.meta?.prompt);
          return (
            <li key={image.id}>
              <figure>
                <img src={image.url} alt={prompt ?? `Example ${image.id}`} loading="lazy" width={160} />
                <figcaption className="small">
                  <span className="badge">{nsfwLabel(image.nsfwLevel ?? 1)}</span> {prompt ?? ''}
                  {image.meta && (
                    <details>
                      <summary>Generation data</summary>
                      <dl className="kv">
                        {Object.entries(image.meta).map(([k, v]) => (
                          <div key={k}>
                            <dt className="mono">{k}</dt>
                            <dd className="mono">{typeof v === 'string' ? v : JSON.stringify(v)}</dd>
                          </div>
                        ))}
                      </dl>
                    </details>
                  )}
                </figcaption>
              </figure>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
