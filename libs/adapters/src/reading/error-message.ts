// Internal to the importer (not in its barrel).

/**
 * The message of anything thrown (as `errorMessage` of @app/core). The importer keeps its own: it runs in import
 * worker threads, which load no core, no Nest and no ORM.
 */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
