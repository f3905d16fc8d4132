/**
 * What the composer needs to know about an adapter. Defined here, not imported from the entity, so the
 * composer stays pure; the composition service maps the Adapter entity onto it.
 */
export interface ComposableAdapter {
  id: string;
  name: string;
  rootId: string;
  rootPath?: string;
  /** Path of the model file relative to its library root, posix separators. */
  relativePath: string;
  /** `ss_output_name` from the safetensors header: A1111 accepts it as an alias, SD.Next does not. */
  ssOutputName?: string | null;
  baseModel?: string | null;
  trainedWords: string[];
  triggerWords: string[];
  activationText?: string | null;
  preferredWeight?: number | null;
  minWeight?: number | null;
  maxWeight?: number | null;
  /** Civitai nsfwLevel bitmask (1 PG, 2 PG-13, 4 R, 8 X, 16 XXX, 32 Blocked); 0 or null = unrated. */
  nsfwLevel?: number | null;
  /** Tombstone: set when the importer no longer finds the file. */
  missingSince?: Date | string | null;
  sha256?: string | null;
}
