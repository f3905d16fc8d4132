import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { toProblem } from '../api/client';
import { archiveDownloadBackup, archiveExport } from '../api/generated/sdk.gen';
import {
  archiveCreateBackupMutation,
  archiveDeleteBackupMutation,
  archiveEstimateOptions,
  archiveImportMutation,
  archiveListBackupsOptions,
} from '../api/generated/@tanstack/react-query.gen';
import type { ArchiveImportData, ArchiveImportReportDto } from '../api/generated/types.gen';
import { formatTime } from '../components/format';
import { QueryState } from '../components/query-state';
import { RoleNote } from '../session/role-note';
import { useAllowed } from '../session/use-session';

type Policy = NonNullable<NonNullable<ArchiveImportData['query']>['policy']>;

const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;

/** Hands a downloaded file to the browser under its name. */
function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function ExportPanel() {
  const estimate = useQuery(archiveEstimateOptions());
  const [withFiles, setWithFiles] = useState(false);
  const exporting = useMutation({
    mutationFn: async () => {
      const { data } = await archiveExport({ body: { withFiles }, parseAs: 'blob', throwOnError: true });
      saveBlob(data, `lora-manager-${new Date().toISOString().slice(0, 10)}.zip`);
    },
  });
  const e = estimate.data;
  return (
    <section className="panel" aria-labelledby="export-h">
      <h2 id="export-h">Export</h2>
      <QueryState query={estimate} />
      {e && (
        <p data-testid="archive-estimate">
          {e.adapters} adapters · {e.results} results · {e.deliveries} deliveries
          {e.recipes !== null ? ` · ${e.recipes} recipes` : ''} · with files: {e.files} files, {mib(e.fileBytes)}
        </p>
      )}
      <div className="row">
        <label>
          <input type="checkbox" checked={withFiles} onChange={(ev) => setWithFiles(ev.target.checked)} /> Include LoRA
          files, sidecars, previews and result images
        </label>
        <button type="button" className="primary" disabled={exporting.isPending} onClick={() => exporting.mutate()}>
          {exporting.isPending ? 'Exporting…' : 'Download archive'}
        </button>
      </div>
      {exporting.error && (
        <p role="alert" className="error-text">
          {toProblem(exporting.error).message}
        </p>
      )}
    </section>
  );
}

function ReportView({ report }: { report: ArchiveImportReportDto }) {
  const a = report.adapters;
  return (
    <div aria-label={report.dryRun ? 'Dry run report' : 'Import report'} data-testid="archive-report">
      <p>
        <strong>{report.dryRun ? 'Dry run: nothing was written.' : 'Imported.'}</strong> Archive from{' '}
        {report.manifest.sourceDatabase}, {formatTime(report.manifest.createdAt)} (format v
        {report.manifest.formatVersion}).
      </p>
      <p className="small">
        adapters: added {a.added} · merged {a.merged} · conflicts {a.conflicts} · unchanged {a.unchanged} · skipped{' '}
        {a.skipped}
      </p>
      <p className="small">
        results {report.results.added} new · deliveries {report.deliveries.added} new · recipes {report.recipes.added}{' '}
        new · files copied {report.files.copied}, existing {report.files.existing}
      </p>
      {report.conflicts.length > 0 && (
        <ul aria-label="Conflicts">
          {report.conflicts.map((c) => (
            <li key={c.localId} className="small">
              {c.name}: {c.fields.join(', ')}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function ImportPanel() {
  const [file, setFile] = useState<File | null>(null);
  const [policy, setPolicy] = useState<Policy>('keep-mine');
  const [report, setReport] = useState<ArchiveImportReportDto | null>(null);
  const importing = useMutation({ ...archiveImportMutation(), onSuccess: (data) => setReport(data) });
  const send = (dryRun: boolean) => file && importing.mutate({ body: file, query: { dryRun, policy } });
  return (
    <section className="panel" aria-labelledby="import-h">
      <h2 id="import-h">Import an archive</h2>
      <div className="row">
        <label>
          Archive{' '}
          <input
            type="file"
            accept=".zip,application/zip"
            onChange={(ev) => {
              setFile(ev.target.files?.[0] ?? null);
              setReport(null);
            }}
          />
        </label>
        <label>
          When both sides edited a field{' '}
          <select value={policy} onChange={(ev) => setPolicy(ev.target.value as Policy)}>
            <option value="keep-mine">keep mine</option>
            <option value="take-theirs">take the archive&apos;s</option>
            <option value="skip">skip the adapter</option>
          </select>
        </label>
        <button type="button" disabled={!file || importing.isPending} onClick={() => send(true)}>
          Dry run
        </button>
        <button
          type="button"
          className="primary"
          disabled={!file || !report?.dryRun || importing.isPending}
          onClick={() => send(false)}
        >
          Apply
        </button>
      </div>
      {importing.error && (
        <p role="alert" className="error-text">
          {toProblem(importing.error).message}
        </p>
      )}
      {report && <ReportView report={report} />}
    </section>
  );
}

function BackupsPanel() {
  const queries = useQueryClient();
  const backups = useQuery(archiveListBackupsOptions());
  const refresh = () => queries.invalidateQueries({ queryKey: [{ _id: 'archiveListBackups' }] });
  const create = useMutation({ ...archiveCreateBackupMutation(), onSuccess: refresh });
  const remove = useMutation({ ...archiveDeleteBackupMutation(), onSuccess: refresh });
  const download = async (name: string) => {
    const { data } = await archiveDownloadBackup({ path: { name }, parseAs: 'blob', throwOnError: true });
    saveBlob(data, name);
  };
  return (
    <section className="panel" aria-labelledby="backups-h">
      <h2 id="backups-h">Backups</h2>
      <button type="button" className="primary" disabled={create.isPending} onClick={() => create.mutate({})}>
        {create.isPending ? 'Backing up…' : 'Back up now'}
      </button>
      {create.error && (
        <p role="alert" className="error-text">
          {toProblem(create.error).message}
        </p>
      )}
      <QueryState query={backups} />
      {backups.data?.items.length === 0 && <p className="muted">No backup yet.</p>}
      <ul className="plain" aria-label="Backups">
        {backups.data?.items.map((b) => (
          <li key={b.name} className="row">
            <span className="mono">{b.name}</span>
            <span className="small">{mib(b.size)}</span>
            <span className="small">{formatTime(b.createdAt)}</span>
            <button type="button" onClick={() => void download(b.name)}>
              Download
            </button>
            <button type="button" onClick={() => remove.mutate({ path: { name: b.name } })}>
              Delete
            </button>
          </li>
        ))}
      </ul>
      <p className="small muted">
        Restore with the service stopped: <span className="mono">npm run cli -- restore-backup &lt;file&gt;</span> (see
        docs/archive.md).
      </p>
    </section>
  );
}

export function BackupsPage() {
  const admin = useAllowed('admin');
  return (
    <section className="page">
      <h1>Backups &amp; archive</h1>
      <RoleNote need="admin" action="exporting, importing and backing up" />
      {admin && (
        <>
          <ExportPanel />
          <ImportPanel />
          <BackupsPanel />
        </>
      )}
    </section>
  );
}
