import { useWindowVirtualizer } from '@tanstack/react-virtual';
import { useCallback, useLayoutEffect, useRef, useState } from 'react';
import type { AdapterSummaryDto } from '../api/generated/types.gen';
import { ErrorText } from '../components/query-state';
import { AdapterCard, AdapterRow } from './adapter-card';
import { BulkBar } from './bulk-bar';
import { FilterSidebar } from './filter-sidebar';
import { hasFilters, SORT_KEYS, type SortKey } from './library-filters';
import { SearchBox } from './search-box';
import { useFirstPage, useLibraryFacets, useLibraryFilters, useLibraryItems } from './use-library';

const CARD_MIN_WIDTH = 210;
const GAP = 12;
const CARD_HEIGHT = 330;
const ROW_HEIGHT = 64;

/** The element's width and its distance from the top of the page (where the virtual rows start). */
function useBox<T extends HTMLElement>() {
  const ref = useRef<T>(null);
  const [box, setBox] = useState({ width: 1024, top: 0 });
  useLayoutEffect(() => {
    const element = ref.current;
    if (!element) return;
    const measure = () =>
      setBox({ width: element.clientWidth, top: element.getBoundingClientRect().top + window.scrollY });
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  return [ref, box] as const;
}

export function LibraryPage() {
  const [filters, setFilters] = useLibraryFilters();
  // The first page answers before the facet counts on a large library: the grid starts from its total.
  const firstPage = useFirstPage(filters);
  const facets = useLibraryFacets(filters, firstPage.data !== undefined);
  const known = firstPage.data?.total ?? facets.data?.total;
  const total = known ?? 0;
  const [selected, setSelected] = useState<Map<string, AdapterSummaryDto>>(new Map());
  const [resultsRef, { width, top }] = useBox<HTMLDivElement>();
  const grid = filters.view === 'grid';
  const columns = grid ? Math.max(1, Math.floor((width + GAP) / (CARD_MIN_WIDTH + GAP))) : 1;
  const rowCount = Math.ceil(total / columns);
  const virtualizer = useWindowVirtualizer({
    count: rowCount,
    estimateSize: () => (grid ? CARD_HEIGHT + GAP : ROW_HEIGHT),
    overscan: 4,
    scrollMargin: top,
  });
  const rows = virtualizer.getVirtualItems();
  const first = rows.length > 0 ? rows[0].index * columns : 0;
  const last = rows.length > 0 ? Math.min(total - 1, (rows[rows.length - 1].index + 1) * columns - 1) : -1;
  const { items, error } = useLibraryItems(filters, first, last);

  const toggleSelected = useCallback(
    (adapter: AdapterSummaryDto) =>
      setSelected((current) => {
        const next = new Map(current);
        if (next.has(adapter.id)) next.delete(adapter.id);
        else next.set(adapter.id, adapter);
        return next;
      }),
    [],
  );

  return (
    <section className="page library">
      <div className="library-toolbar">
        <h1>Library</h1>
        <SearchBox value={filters.q ?? ''} onSearch={(q) => setFilters({ ...filters, q: q || undefined }, true)} />
        <label>
          Sort{' '}
          <select
            value={filters.sort ?? ''}
            onChange={(e) => setFilters({ ...filters, sort: (e.target.value || undefined) as SortKey | undefined })}
          >
            <option value="">Default</option>
            {SORT_KEYS.map((key) => (
              <option key={key} value={key}>
                {key}
              </option>
            ))}
          </select>
        </label>
        <label>
          Order{' '}
          <select
            value={filters.order ?? ''}
            onChange={(e) =>
              setFilters({ ...filters, order: (e.target.value || undefined) as 'asc' | 'desc' | undefined })
            }
          >
            <option value="">Default</option>
            <option value="asc">Ascending</option>
            <option value="desc">Descending</option>
          </select>
        </label>
        <div role="group" aria-label="View" className="row">
          <button type="button" aria-pressed={grid} onClick={() => setFilters({ ...filters, view: 'grid' })}>
            Grid
          </button>
          <button type="button" aria-pressed={!grid} onClick={() => setFilters({ ...filters, view: 'list' })}>
            List
          </button>
        </div>
        <output className="muted" aria-live="polite" data-testid="library-total">
          {known === undefined ? 'Loading…' : `${total.toLocaleString()} adapters`}
        </output>
      </div>
      <div className="library-body">
        <FilterSidebar filters={filters} setFilters={setFilters} facets={facets.data?.facets} />
        <div className="library-results" ref={resultsRef}>
          <BulkBar selected={selected} onClear={() => setSelected(new Map())} />
          <ErrorText error={firstPage.error ?? facets.error ?? error} />
          {(firstPage.data?.warnings ?? []).map((w) => (
            <p key={`${w.field}:${w.value}`} className="muted" role="status" data-testid="library-warning">
              {w.message}
            </p>
          ))}
          {known === 0 && (
            <p>
              No adapter matches.{' '}
              {hasFilters(filters) && (
                <button
                  type="button"
                  onClick={() => setFilters({ baseModel: [], tags: [], modelType: [], view: filters.view })}
                >
                  Clear filters
                </button>
              )}
            </p>
          )}
          <div role="list" aria-label="Adapters" style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
            {rows.map((row) => (
              <div
                key={row.key}
                className={grid ? 'grid-row' : 'list-row'}
                style={{
                  position: 'absolute',
                  top: 0,
                  left: 0,
                  width: '100%',
                  transform: `translateY(${row.start - virtualizer.options.scrollMargin}px)`,
                  gridTemplateColumns: grid ? `repeat(${columns}, minmax(0, 1fr))` : undefined,
                }}
              >
                {Array.from({ length: columns }, (_, column) => {
                  const index = row.index * columns + column;
                  if (index >= total) return null;
                  const adapter = items.get(index);
                  if (!adapter)
                    return (
                      <div
                        key={index}
                        role="listitem"
                        aria-busy="true"
                        className={grid ? 'card skeleton' : 'skeleton'}
                      />
                    );
                  const Item = grid ? AdapterCard : AdapterRow;
                  return (
                    <Item
                      key={adapter.id}
                      adapter={adapter}
                      selected={selected.has(adapter.id)}
                      onSelect={() => toggleSelected(adapter)}
                    />
                  );
                })}
              </div>
            ))}
          </div>
        </div>
      </div>
    </section>
  );
}
