import { useMutation, useQueries, useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useMemo } from 'react';
import { useSearchParams } from 'react-router';
import {
  adaptersBulkMutation,
  adaptersListOptions,
  adaptersPatchMutation,
} from '../api/generated/@tanstack/react-query.gen';
import type { AdapterSummaryDto, BulkAdapterActionDto } from '../api/generated/types.gen';
import { firstPageOptions, PAGE_SIZE } from './first-page';
import { type LibraryFilters, parseFilters, toListQuery, toSearchParams } from './library-filters';

/** The filters held in the URL, and a setter that writes them back (typing replaces the entry, clicks push one). */
export function useLibraryFilters(): [LibraryFilters, (next: LibraryFilters, replace?: boolean) => void] {
  const [params, setParams] = useSearchParams();
  const filters = useMemo(() => parseFilters(params), [params]);
  const setFilters = useCallback(
    (next: LibraryFilters, replace = false) => setParams(toSearchParams(next), { replace }),
    [setParams],
  );
  return [filters, setFilters];
}

/** Facet counts for the filters; asked once the first page is in, so counting never delays the first cards. */
export function useLibraryFacets(filters: LibraryFilters, enabled: boolean) {
  return useQuery({
    ...adaptersListOptions({ query: { ...toListQuery(filters), limit: 1, facets: ['baseModel', 'tags'] } }),
    enabled,
    placeholderData: (previous) => previous,
  });
}

/** Page 1 for the filters (the same cache entry the grid reads its first rows from). */
export function useFirstPage(filters: LibraryFilters) {
  return useQuery({ ...firstPageOptions(filters), placeholderData: (previous) => previous });
}

/**
 * The pages that hold the items at these indexes: a 100,000-adapter library is read only where the user looks,
 * each page cached on its own, so jumping far down never loads what lies between.
 */
export function useLibraryItems(filters: LibraryFilters, firstIndex: number, lastIndex: number) {
  const query = toListQuery(filters);
  const pages: number[] = [];
  if (lastIndex >= firstIndex) {
    for (let page = Math.floor(firstIndex / PAGE_SIZE) + 1; page <= Math.floor(lastIndex / PAGE_SIZE) + 1; page++)
      pages.push(page);
  }
  const results = useQueries({
    queries: pages.map((page) => ({
      ...adaptersListOptions({ query: { ...query, page, limit: PAGE_SIZE } }),
      staleTime: 30_000,
    })),
  });
  return useMemo(() => {
    const items = new Map<number, AdapterSummaryDto>();
    results.forEach((result, i) => {
      result.data?.items.forEach((item, j) => items.set((pages[i] - 1) * PAGE_SIZE + j, item));
    });
    return { items, error: results.find((r) => r.error)?.error ?? null };
    // `results` changes identity on every fetch state change; the pages follow from it.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [results]);
}

/** Invalidates everything the library shows after a change to adapters. */
export function useInvalidateAdapters() {
  const queries = useQueryClient();
  return useCallback(
    () =>
      Promise.all(
        ['adaptersList', 'adaptersGet', 'adaptersTags', 'adaptersBaseModels', 'adaptersDuplicates'].map((id) =>
          queries.invalidateQueries({ queryKey: [{ _id: id }] }),
        ),
      ),
    [queries],
  );
}

export function useBulkAction() {
  const invalidate = useInvalidateAdapters();
  const mutation = useMutation({ ...adaptersBulkMutation(), onSettled: invalidate });
  return {
    ...mutation,
    run: (action: BulkAdapterActionDto['action'], ids: string[]) => mutation.mutateAsync({ body: { action, ids } }),
  };
}

/** Adds a tag to each adapter (the API replaces tag lists, so each gets its own list plus the tag). */
export function useAddTag() {
  const invalidate = useInvalidateAdapters();
  const patch = useMutation(adaptersPatchMutation());
  return useMutation({
    mutationFn: async ({ adapters, tag }: { adapters: AdapterSummaryDto[]; tag: string }) => {
      for (const adapter of adapters) {
        if (adapter.tags.includes(tag)) continue;
        await patch.mutateAsync({ path: { id: adapter.id }, body: { tags: [...adapter.tags, tag] } });
      }
    },
    onSettled: invalidate,
  });
}

/** Favorite / active toggles on one card. */
export function useAdapterToggle() {
  const invalidate = useInvalidateAdapters();
  return useMutation({ ...adaptersPatchMutation(), onSettled: invalidate });
}
