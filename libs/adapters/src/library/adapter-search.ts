// Turning a user's search box into a full-text query without letting any of it reach the query syntax.

/** Maximum number of terms a search may carry. */
export const MAX_SEARCH_TERMS = 16;

/**
 * Splits user input into search terms: runs of letters, digits and marks, lower-cased. Everything else
 * (quotes, operators, punctuation) separates terms, as both databases' tokenizers do.
 */
export function searchTermsOf(q: string): string[] {
  const terms =
    q
      .normalize('NFC')
      .toLowerCase()
      .match(/[\p{L}\p{N}\p{M}]+/gu) ?? [];
  return [...new Set(terms)].slice(0, MAX_SEARCH_TERMS);
}

/** SQLite FTS5: every term as a quoted prefix query, all required (implicit AND). */
export function fts5QueryOf(terms: readonly string[]): string {
  return terms.map((t) => `"${t.replace(/"/g, '""')}"*`).join(' ');
}

/** PostgreSQL `to_tsquery('simple', …)`: every term quoted as a prefix, all required. */
export function tsQueryOf(terms: readonly string[]): string {
  return terms.map((t) => `'${t.replace(/\\/g, '\\\\').replace(/'/g, "''")}':*`).join(' & ');
}
