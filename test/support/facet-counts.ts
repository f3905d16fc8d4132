// The whole-library facet counts (`adapter_facet_counts`) next to the same counts made from scratch, for tests
// that check the triggers and the importer keep them exact. Works through any query function, on both databases.

export type FacetName = 'base_model' | 'tag';
export type FacetCounts = Record<string, number>;
type Rows = (sql: string) => Promise<Array<{ value: string; n: unknown }>>;

const byValue = (rows: Array<{ value: string; n: unknown }>): FacetCounts =>
  Object.fromEntries(rows.map((r) => [r.value, Number(r.n)]));

/** What `adapter_facet_counts` keeps for one facet: the sum of each value's rows, zero sums left out. */
export async function keptFacetCounts(rows: Rows, facet: FacetName): Promise<FacetCounts> {
  return byValue(
    await rows(
      `SELECT value, SUM(n) AS n FROM adapter_facet_counts WHERE facet = '${facet}' GROUP BY value HAVING SUM(n) <> 0`,
    ),
  );
}

/** The same counts, counted from scratch over the present (not tombstoned) adapters. */
export async function countedFacetCounts(rows: Rows, facet: FacetName): Promise<FacetCounts> {
  return byValue(
    await rows(
      facet === 'tag'
        ? `SELECT t.tag AS value, COUNT(*) AS n FROM adapter_tags t JOIN adapters a ON a.id = t.adapter_id WHERE a.missing_since IS NULL GROUP BY t.tag`
        : `SELECT a.base_model AS value, COUNT(*) AS n FROM adapters a WHERE a.missing_since IS NULL GROUP BY a.base_model`,
    ),
  );
}
