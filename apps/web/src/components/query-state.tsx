import type { UseQueryResult } from '@tanstack/react-query';
import { toProblem } from '../api/client';

/** Loading and error lines for a query: nothing fails silently. */
export function QueryState({ query, label }: { query: UseQueryResult<unknown, unknown>; label?: string }) {
  if (query.isPending && query.fetchStatus !== 'idle')
    return (
      <p className="muted" role="status">
        Loading{label ? ` ${label}` : ''}…
      </p>
    );
  if (query.isError) return <ErrorText error={query.error} />;
  return null;
}

export function ErrorText({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p className="error-text" role="alert">
      {toProblem(error).message}
    </p>
  );
}
