import { useMutation } from '@tanstack/react-query';
import { resultsExportDownload } from '../api/generated/sdk.gen';
import { resultsExportEstimateMutation } from '../api/generated/@tanstack/react-query.gen';
import { toProblem } from '../api/client';

const megabytes = (bytes: number): string => `${(bytes / 1048576).toFixed(bytes < 10 * 1048576 ? 1 : 0)} MB`;

/** Saves a blob under a name through a temporary link (the browser's own download). */
function save(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/**
 * Export of the selected results as a ZIP (images, one metadata JSON each, an index): first the estimate (how many,
 * about how big), then the download.
 */
export function ExportPanel({ ids, onClear }: { ids: string[]; onClear: () => void }) {
  const estimate = useMutation(resultsExportEstimateMutation());
  const download = useMutation({
    mutationFn: async () => {
      const { data, response } = await resultsExportDownload({ body: { ids }, parseAs: 'blob', throwOnError: true });
      const named = /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '');
      save(data, named?.[1] ?? 'results.zip');
    },
  });
  const stale = estimate.variables?.body?.ids?.join() !== ids.join();
  const error = estimate.error ?? download.error;
  return (
    <div className="panel row small" role="region" aria-label="Export">
      <span>{ids.length} selected</span>
      <button type="button" onClick={() => estimate.mutate({ body: { ids } })} disabled={estimate.isPending}>
        Export ZIP…
      </button>
      {estimate.data && !stale && (
        <>
          <span role="status">
            {estimate.data.count} images, about {megabytes(estimate.data.archiveBytes)}
          </span>
          <button type="button" onClick={() => download.mutate()} disabled={download.isPending}>
            {download.isPending ? 'Preparing…' : 'Download ZIP'}
          </button>
        </>
      )}
      {download.isSuccess && !stale && <span>Downloaded</span>}
      <button type="button" onClick={onClear}>
        Clear selection
      </button>
      {error && <span role="alert">{toProblem(error).message}</span>}
    </div>
  );
}
