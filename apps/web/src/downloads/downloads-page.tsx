import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { Link } from 'react-router';
import { fieldMessage, toProblem } from '../api/client';
import {
  downloadsCancelMutation,
  downloadsDownloadRootsOptions,
  downloadsListOptions,
  downloadsStartMutation,
} from '../api/generated/@tanstack/react-query.gen';
import type { DownloadDto, StartDownloadDto } from '../api/generated/types.gen';
import { useLiveEvent } from '../api/live-events';
import { formatBytes, formatTime } from '../components/format';
import { QueryState } from '../components/query-state';
import { RoleNote } from '../session/role-note';
import { useAllowed } from '../session/use-session';

const active = (d: DownloadDto) => d.status === 'queued' || d.status === 'running';

function useDownloads() {
  return useQuery({
    ...downloadsListOptions(),
    refetchInterval: (query) => (query.state.data?.some(active) ? 2_000 : false),
  });
}

/** The "Download from Civitai" dialog: a URL or version id, a library root and a folder. */
function DownloadDialog({ onClose }: { onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const roots = useQuery(downloadsDownloadRootsOptions());
  const queries = useQueryClient();
  const start = useMutation({
    ...downloadsStartMutation(),
    onSuccess: () => {
      void queries.invalidateQueries({ queryKey: [{ _id: 'downloadsList' }] });
      ref.current?.close();
    },
  });
  const [reference, setReference] = useState('');
  const [rootId, setRootId] = useState('');
  const [folder, setFolder] = useState('');
  const [rename, setRename] = useState(false);
  const problem = start.error ? toProblem(start.error) : null;
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
  }, []);
  return (
    <dialog ref={ref} onClose={onClose} aria-labelledby="dl-h">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const body: StartDownloadDto = { reference: reference.trim() };
          if (rootId) body.rootId = rootId;
          if (folder.trim()) body.folder = folder.trim();
          if (rename) body.onCollision = 'rename';
          start.mutate({ body });
        }}
      >
        <h2 id="dl-h">Download from Civitai</h2>
        <div className="field">
          <label htmlFor="dl-reference">Civitai URL or version id</label>
          <input
            id="dl-reference"
            value={reference}
            onChange={(e) => setReference(e.target.value)}
            placeholder="https://civitai.com/models/123?modelVersionId=456"
            required
          />
          {fieldMessage(problem, 'reference') && (
            <span className="field-error">{fieldMessage(problem, 'reference')}</span>
          )}
        </div>
        <div className="field">
          <label htmlFor="dl-root">Library root</label>
          <select id="dl-root" value={rootId} onChange={(e) => setRootId(e.target.value)}>
            {roots.data?.map((r, i) => (
              <option key={r.rootId} value={i === 0 ? '' : r.rootId}>
                {r.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="dl-folder">Folder (inside the root; created when missing)</label>
          <input id="dl-folder" value={folder} onChange={(e) => setFolder(e.target.value)} placeholder="styles/ink" />
          {fieldMessage(problem, 'folder') && <span className="field-error">{fieldMessage(problem, 'folder')}</span>}
        </div>
        <label>
          <input type="checkbox" checked={rename} onChange={(e) => setRename(e.target.checked)} /> If the name is taken,
          save as name-1
        </label>
        {problem && problem.fields.length === 0 && (
          <p role="alert" className="error-text">
            {problem.message}
          </p>
        )}
        <div className="row">
          <button type="submit" className="primary" disabled={start.isPending || !reference.trim()}>
            Download
          </button>
          <button type="button" onClick={() => ref.current?.close()}>
            Close
          </button>
        </div>
      </form>
    </dialog>
  );
}

function DownloadItem({ download }: { download: DownloadDto }) {
  const live = useLiveEvent('download.progress', download.id);
  const queries = useQueryClient();
  const cancel = useMutation({
    ...downloadsCancelMutation(),
    onSuccess: () => queries.invalidateQueries({ queryKey: [{ _id: 'downloadsList' }] }),
  });
  const canCancel = useAllowed('admin');
  const running = active(download);
  const done = running && live ? live.bytesDone : download.bytesDone;
  const total = (running && live ? live.bytesTotal : download.bytesTotal) ?? undefined;
  return (
    <li className="panel" aria-label={`Download ${download.relativePath} ${download.status}`}>
      <div className="row">
        <span
          className={`badge ${download.status === 'completed' ? 'ok' : download.status === 'failed' ? 'bad' : ''}`}
          data-testid="download-status"
        >
          {download.status}
        </span>
        <span className="mono">{download.relativePath}</span>
        <span className="muted small">version {download.versionId}</span>
        <span className="muted small">{formatTime(download.createdAt)}</span>
        {download.adapterId && <Link to={`/adapters/${download.adapterId}`}>Open adapter</Link>}
        {running && (
          <button
            type="button"
            disabled={!canCancel || cancel.isPending}
            onClick={() => cancel.mutate({ path: { id: download.id } })}
          >
            Cancel
          </button>
        )}
      </div>
      {running && (
        <div className="job-progress">
          <progress aria-label="Download progress" max={total} value={total ? done : undefined} />
          <span className="small">
            {formatBytes(done)}
            {total ? ` / ${formatBytes(total)}` : ''}
          </span>
        </div>
      )}
      {download.status === 'completed' && download.bytesFetched > (download.bytesTotal ?? 0) && (
        <p className="small muted">Resumed: {formatBytes(download.bytesFetched)} fetched in all.</p>
      )}
      {download.error && <p className="error-text">{download.error}</p>}
    </li>
  );
}

export function DownloadsPage() {
  const downloads = useDownloads();
  const [open, setOpen] = useState(false);
  const canStart = useAllowed('admin');
  return (
    <section className="page">
      <h1>Downloads</h1>
      <div className="row">
        <button type="button" className="primary" disabled={!canStart} onClick={() => setOpen(true)}>
          Download from Civitai
        </button>
        <RoleNote need="admin" action="downloading from Civitai" />
      </div>
      {open && <DownloadDialog onClose={() => setOpen(false)} />}
      <section aria-labelledby="downloads-h">
        <h2 id="downloads-h">Recent downloads</h2>
        <QueryState query={downloads} />
        {downloads.data?.length === 0 && <p className="muted">Nothing downloaded yet.</p>}
        <ul className="plain" aria-label="Downloads">
          {downloads.data?.map((d) => (
            <DownloadItem key={d.id} download={d} />
          ))}
        </ul>
      </section>
    </section>
  );
}
