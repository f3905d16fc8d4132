import { keepPreviousData, useQueries, useQuery } from '@tanstack/react-query';
import { useCallback, useMemo } from 'react';
import { useSearchParams } from 'react-router';
import { adaptersGetOptions, adaptersListOptions } from '../api/generated/@tanstack/react-query.gen';
import { composeCompose } from '../api/generated/sdk.gen';
import type { AdapterDto } from '../api/generated/types.gen';
import { useDebounced } from '../components/use-debounced';
import { type ComposerState, composerParams, parseComposer, toComposeRequest } from './composer-state';

export function useComposerState(): [ComposerState, (next: ComposerState) => void] {
  const [params, setParams] = useSearchParams();
  const state = useMemo(() => parseComposer(params), [params]);
  const setState = useCallback(
    (next: ComposerState) => setParams(composerParams(next), { replace: true }),
    [setParams],
  );
  return [state, setState];
}

/** The picked adapters' records, in pick order (undefined while one loads). */
export function usePickedAdapters(state: ComposerState): (AdapterDto | undefined)[] {
  const results = useQueries({ queries: state.adapters.map((p) => adaptersGetOptions({ path: { id: p.id } })) });
  return results.map((r) => r.data);
}

export function useAdapterSearch(q: string) {
  const settled = useDebounced(q.trim(), 250);
  return useQuery({
    ...adaptersListOptions({ query: { q: settled || undefined, limit: 12 } }),
    placeholderData: keepPreviousData,
  });
}

/** The composition for the current state, recomposed as anything changes (after a short pause). */
export function useComposition(state: ComposerState) {
  const request = useDebounced(toComposeRequest(state), 200);
  return useQuery({
    queryKey: ['compose', request],
    queryFn: async ({ signal }) => (await composeCompose({ body: request!, signal, throwOnError: true })).data,
    enabled: request !== null,
    placeholderData: keepPreviousData,
    retry: false,
  });
}
