import type { QueryClient } from '@tanstack/react-query';
import { adaptersListOptions } from '../api/generated/@tanstack/react-query.gen';
import { type LibraryFilters, parseFilters, toListQuery } from './library-filters';

export const PAGE_SIZE = 100;

/** Page 1 for the filters: the query the grid starts from, and the one the route asks for before its code is in. */
export const firstPageOptions = (filters: LibraryFilters) => ({
  ...adaptersListOptions({ query: { ...toListQuery(filters), page: 1, limit: PAGE_SIZE } }),
  staleTime: 30_000,
});

/** Starts page 1 for this address while the library page's code is still loading (the two travel in parallel). */
export function prefetchFirstPage(queries: QueryClient, url: string): void {
  void queries.prefetchQuery(firstPageOptions(parseFilters(new URL(url).searchParams)));
}
