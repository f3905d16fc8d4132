import { useMutation, useQueryClient } from '@tanstack/react-query';
import {
  resultsExportRetentionDryRunMutation,
  resultsExportRetentionRunMutation,
} from '../api/generated/@tanstack/react-query.gen';
import type { RetentionReportDto } from '../api/generated/types.gen';
import { toProblem } from '../api/client';
import { formatTime } from '../components/format';

function Policy({ report }: { report: RetentionReportDto }) {
  const p = report.policy;
  if (!report.active)
    return <p className="small muted">No limit is set (RESULTS_MAX_AGE_DAYS, RESULTS_MAX_TOTAL_MB).</p>;
  return (
    <p className="small muted">
      {p.maxAgeDays !== null && `Older than ${p.maxAgeDays} days. `}
      {p.maxTotalMb !== null && `Beyond ${p.maxTotalMb} MB in all. `}
      Favorites and results rated {p.keepRating} or more are kept.
      {p.intervalHours !== null ? ` Runs every ${p.intervalHours} h.` : ' Runs on demand only.'}
    </p>
  );
}

function Report({ report }: { report: RetentionReportDto }) {
  const r = report.removed;
  return (
    <div role="status" aria-label={report.dryRun ? 'Dry run report' : 'Retention report'}>
      <Policy report={report} />
      <p>
        {report.dryRun ? 'Would remove' : 'Removed'} {r.count} result{r.count === 1 ? '' : 's'} (
        {(r.bytes / 1048576).toFixed(1)} MB)
        {r.oldest && r.newest && `, from ${formatTime(r.oldest)} to ${formatTime(r.newest)}`}; {report.after.count}{' '}
        {report.dryRun ? 'would be' : 'are'} left.
      </p>
    </div>
  );
}

/** Admins: what the retention policy would remove (dry run), then run it now. */
export function RetentionPanel() {
  const queries = useQueryClient();
  const dryRun = useMutation(resultsExportRetentionDryRunMutation());
  const run = useMutation({
    ...resultsExportRetentionRunMutation(),
    onSuccess: () => queries.invalidateQueries({ queryKey: [{ _id: 'resultsList' }] }),
  });
  const error = dryRun.error ?? run.error;
  return (
    <details className="panel">
      <summary>Retention</summary>
      <div className="row small">
        <button type="button" onClick={() => dryRun.mutate({})} disabled={dryRun.isPending}>
          Dry run
        </button>
        <button
          type="button"
          disabled={!dryRun.data?.active || run.isPending}
          onClick={() => {
            if (window.confirm('Remove the results the policy selects now?')) run.mutate({});
          }}
        >
          Run now
        </button>
      </div>
      {run.data ? <Report report={run.data} /> : dryRun.data && <Report report={dryRun.data} />}
      {error && <p role="alert">{toProblem(error).message}</p>}
    </details>
  );
}
