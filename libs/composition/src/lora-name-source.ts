/**
 * Where the composer learns which LoRA names a generator backend lists (`GET /sdapi/v1/loras`). The
 * generation lib implements it; composition cannot import generation (the libs depend one way).
 */
export abstract class LoraNameSource {
  /** The `name`s the backend lists, or null when it is unknown or unreachable. */
  abstract loraNames(backendId: string): Promise<string[] | null>;
  /** Ids of the configured backends. */
  abstract backendIds(): string[];
}
