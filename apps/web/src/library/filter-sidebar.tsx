import type { AdapterFacetsDto } from '../api/generated/types.gen';
import { NSFW_LEVELS } from '../components/format';
import { type LibraryFilters, MODEL_TYPES, type NsfwMax, toggleValue } from './library-filters';

interface SidebarProps {
  filters: LibraryFilters;
  setFilters: (next: LibraryFilters, replace?: boolean) => void;
  facets: AdapterFacetsDto | undefined;
}

type Flag = 'active' | 'favorite' | 'hasPreview' | 'hasWarnings' | 'hasUpdate';

function TriState({ name, label, filters, setFilters }: { name: Flag; label: string } & Omit<SidebarProps, 'facets'>) {
  const value = filters[name];
  return (
    <label className="tri-state">
      {label}{' '}
      <select
        value={value === undefined ? '' : String(value)}
        onChange={(e) =>
          setFilters({ ...filters, [name]: e.target.value === '' ? undefined : e.target.value === 'true' })
        }
      >
        <option value="">Any</option>
        <option value="true">Yes</option>
        <option value="false">No</option>
      </select>
    </label>
  );
}

function ValueList({
  legend,
  name,
  values,
  filters,
  setFilters,
}: { legend: string; name: 'baseModel' | 'tags' | 'modelType'; values: { value: string; count?: number }[] } & Omit<
  SidebarProps,
  'facets'
>) {
  const chosen = filters[name];
  const shown: { value: string; count?: number }[] = [
    ...values,
    ...chosen.filter((c) => !values.some((v) => v.value === c)).map((value) => ({ value })),
  ];
  return (
    <fieldset>
      <legend>{legend}</legend>
      {shown.length === 0 && <span className="muted">none</span>}
      {shown.map(({ value, count }) => (
        <label key={value} className="facet">
          <input
            type="checkbox"
            checked={chosen.includes(value)}
            onChange={() => setFilters({ ...filters, [name]: toggleValue(chosen, value) })}
          />{' '}
          {value} {count !== undefined && <span className="muted">({count.toLocaleString()})</span>}
        </label>
      ))}
    </fieldset>
  );
}

/** Facets with counts (base models, tags) and every other filter the API takes. */
export function FilterSidebar({ filters, setFilters, facets }: SidebarProps) {
  return (
    <aside className="filter-sidebar panel" aria-label="Filters">
      <details open>
        <summary>Filters</summary>
        <ValueList
          legend="Base model"
          name="baseModel"
          values={facets?.baseModel ?? []}
          filters={filters}
          setFilters={setFilters}
        />
        <ValueList
          legend="Tags"
          name="tags"
          values={(facets?.tags ?? []).slice(0, 25)}
          filters={filters}
          setFilters={setFilters}
        />
        {filters.tags.length > 1 && (
          <label>
            Tag match{' '}
            <select
              value={filters.tagMode ?? 'any'}
              onChange={(e) => setFilters({ ...filters, tagMode: e.target.value as 'any' | 'all' })}
            >
              <option value="any">any tag</option>
              <option value="all">all tags</option>
            </select>
          </label>
        )}
        <ValueList
          legend="Type"
          name="modelType"
          values={MODEL_TYPES.map((value) => ({ value }))}
          filters={filters}
          setFilters={setFilters}
        />
        <fieldset>
          <legend>Flags</legend>
          <TriState name="favorite" label="Favorite" filters={filters} setFilters={setFilters} />
          <TriState name="active" label="Active" filters={filters} setFilters={setFilters} />
          <TriState name="hasPreview" label="Has preview" filters={filters} setFilters={setFilters} />
          <TriState name="hasWarnings" label="Import warnings" filters={filters} setFilters={setFilters} />
          <TriState name="hasUpdate" label="Has update" filters={filters} setFilters={setFilters} />
          <label className="facet">
            <input
              type="checkbox"
              checked={filters.missing === true}
              onChange={(e) => setFilters({ ...filters, missing: e.target.checked ? true : undefined })}
            />{' '}
            Missing files (tombstones)
          </label>
        </fieldset>
        <label className="field">
          NSFW at most
          <select
            value={filters.nsfwMax ?? ''}
            onChange={(e) =>
              setFilters({
                ...filters,
                nsfwMax: e.target.value === '' ? undefined : (Number(e.target.value) as NsfwMax),
              })
            }
          >
            <option value="">Any level</option>
            <option value="0">Unrated only</option>
            {NSFW_LEVELS.map((l) => (
              <option key={l.bit} value={l.bit}>
                {l.label}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          Folder
          <input
            defaultValue={filters.folder ?? ''}
            key={filters.folder ?? ''}
            placeholder="characters/anime"
            onBlur={(e) => setFilters({ ...filters, folder: e.target.value.trim() || undefined })}
            onKeyDown={(e) => {
              if (e.key === 'Enter') setFilters({ ...filters, folder: e.currentTarget.value.trim() || undefined });
            }}
          />
        </label>
      </details>
    </aside>
  );
}
