import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { fieldMessage, toProblem } from '../api/client';
import {
  civitaiLookupMutation,
  civitaiRunsCheckUpdatesMutation,
  civitaiRunsLinkMutation,
  civitaiRunsUnlinkMutation,
} from '../api/generated/@tanstack/react-query.gen';
import type { AdapterDto } from '../api/generated/types.gen';
import { formatBytes, formatTime } from '../components/format';
import { useAllowed } from '../session/use-session';

/** After a Civitai action the adapter, the lists and the update count change. */
function useRefresh() {
  const queries = useQueryClient();
  return () =>
    Promise.all(
      ['adaptersGet', 'adaptersList', 'civitaiStatus'].map((id) =>
        queries.invalidateQueries({ queryKey: [{ _id: id }] }),
      ),
    );
}

/**
 * The adapter's Civitai actions: look it up by hash, link it to a model or version a user pastes, check for newer
 * versions (listed with links), and unlink.
 */
export function CivitaiPanel({ adapter }: { adapter: AdapterDto }) {
  const refresh = useRefresh();
  const canEdit = useAllowed('editor');
  const lookup = useMutation({ ...civitaiLookupMutation(), onSuccess: refresh });
  const link = useMutation({ ...civitaiRunsLinkMutation(), onSuccess: refresh });
  const unlink = useMutation({ ...civitaiRunsUnlinkMutation(), onSuccess: refresh });
  const check = useMutation({ ...civitaiRunsCheckUpdatesMutation(), onSuccess: refresh });
  const [linking, setLinking] = useState(false);
  const [reference, setReference] = useState('');
  const linkProblem = link.error ? toProblem(link.error) : null;
  const errors = [lookup.error, unlink.error, check.error].filter(Boolean).map((e) => toProblem(e).message);
  const path = { id: adapter.id };
  const newer = adapter.civitaiNewerVersions ?? [];
  return (
    <section className="panel" aria-labelledby="civitai-h">
      <h2 id="civitai-h">Civitai</h2>
      <div className="row">
        <button
          type="button"
          disabled={!canEdit || lookup.isPending || !adapter.sha256Verified}
          title={adapter.sha256Verified ? undefined : 'The file’s SHA-256 has not been computed yet'}
          onClick={() => lookup.mutate({ path })}
        >
          Look up on Civitai
        </button>
        <button type="button" disabled={!canEdit} onClick={() => setLinking((v) => !v)} aria-expanded={linking}>
          Link to Civitai…
        </button>
        <button
          type="button"
          disabled={!canEdit || !adapter.civitaiModelId || check.isPending}
          title={adapter.civitaiModelId ? undefined : 'Look the adapter up or link it first'}
          onClick={() => check.mutate({ path })}
        >
          Check for updates
        </button>
        {adapter.civitaiModelId && (
          <button type="button" disabled={!canEdit || unlink.isPending} onClick={() => unlink.mutate({ path })}>
            Unlink
          </button>
        )}
      </div>
      {lookup.data && (
        <p role="status" className="small">
          {lookup.data.found
            ? `Found on Civitai: model ${lookup.data.modelId}, version ${lookup.data.versionId}`
            : 'Civitai does not know this file’s hash.'}
        </p>
      )}
      {linking && (
        <form
          className="row"
          onSubmit={(e) => {
            e.preventDefault();
            link.mutate({ path, body: { reference } }, { onSuccess: () => setLinking(false) });
          }}
        >
          <label htmlFor="civitai-ref">Civitai URL, model or version id, or AIR</label>
          <input
            id="civitai-ref"
            value={reference}
            onChange={(e) => setReference(e.target.value)}
            placeholder="https://civitai.com/models/123?modelVersionId=456"
            size={48}
          />
          <button type="submit" className="primary" disabled={link.isPending || reference.trim() === ''}>
            Link
          </button>
          {linkProblem && (
            <span role="alert" className="field-error">
              {fieldMessage(linkProblem, 'reference') ?? linkProblem.message}
            </span>
          )}
        </form>
      )}
      {link.data && (
        <p role="status" className="small">
          Linked to version {link.data.versionId}
          {link.data.hashMatches ? '' : ' (its files do not have this file’s hash)'}.
        </p>
      )}
      {errors.map((message) => (
        <p key={message} role="alert" className="error-text">
          {message}
        </p>
      ))}
      {adapter.civitaiUpdateCheckedAt && (
        <section aria-labelledby="newer-h">
          <h3 id="newer-h">Newer versions</h3>
          <p className="muted small">Checked {formatTime(adapter.civitaiUpdateCheckedAt)}</p>
          {newer.length === 0 ? (
            <p className="muted">This is the newest version.</p>
          ) : (
            <ul aria-label="Newer versions">
              {newer.map((v) => (
                <li key={v.id}>
                  <a
                    href={`https://civitai.com/models/${adapter.civitaiModelId}?modelVersionId=${v.id}`}
                    target="_blank"
                    rel="noreferrer noopener"
                  >
                    {v.name ?? `Version ${v.id}`}
                  </a>{' '}
                  <span className="muted small">
                    {[
                      v.baseModel,
                      v.publishedAt && formatTime(v.publishedAt),
                      v.fileSize !== null && formatBytes(v.fileSize),
                    ]
                      .filter(Boolean)
                      .join(' · ')}
                  </span>
                  {v.earlyAccess && <span className="badge">early access</span>}
                </li>
              ))}
            </ul>
          )}
        </section>
      )}
    </section>
  );
}
