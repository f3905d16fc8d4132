// The part of zip-stream 7 (an ESM package without type declarations) that ZipWriter uses.
declare module 'zip-stream' {
  import { Transform } from 'node:stream';

  export interface ZipStreamOptions {
    /** Store entries instead of deflating them (per-entry `store` overrides it). */
    store?: boolean;
    forceZip64?: boolean;
    zlib?: { level?: number };
  }

  export interface ZipEntryData {
    name: string;
    date?: Date;
    store?: boolean;
    mode?: number;
  }

  export default class ZipStream extends Transform {
    constructor(options?: ZipStreamOptions);
    /** One entry at a time: the callback says the source has been written, then the next may start. */
    entry(source: Buffer | NodeJS.ReadableStream, data: ZipEntryData, callback: (error?: Error | null) => void): this;
    finalize(): void;
  }
}
