import { randomUUID } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig, StorageConfig } from '../config/app-config.js';
import { DomainError, errorMessage } from '../errors/domain-error.js';
import {
  checkedStorageKey,
  FileStorage,
  type OpenedObject,
  type PutOptions,
  StorageUnavailableError,
  StorageUpstreamError,
  type StoredObject,
} from './file-storage.js';

type S3Config = Extract<StorageConfig, { kind: 's3' }>;

/** Multipart part size of streamed uploads: one part buffered per upload at a time (S3's minimum is 5 MiB). */
const PART_SIZE = 8 * 1024 * 1024;

const NOT_FOUND = new Set(['NoSuchKey', 'NotFound']);

/**
 * FileStorage on an S3-compatible bucket (AWS S3, MinIO, …): `STORAGE_URL=s3://bucket/prefix`. Keys are stored
 * under the prefix; streams go in through a multipart upload (aborted on failure, so a failed stream leaves no
 * object) and come out as the response body. Connection failures and timeouts become
 * {@link StorageUnavailableError} (503), the server's own errors {@link StorageUpstreamError} (502).
 */
@Injectable()
export class S3FileStorage extends FileStorage implements OnModuleDestroy {
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    super();
    if (config.storage.kind !== 's3') throw new Error('S3FileStorage needs STORAGE_URL=s3://…');
    const s3: S3Config = config.storage;
    this.bucket = s3.bucket;
    this.prefix = s3.prefix === '' ? '' : `${s3.prefix}/`;
    this.client = new S3Client({
      region: s3.region,
      endpoint: s3.endpoint ?? undefined,
      forcePathStyle: s3.forcePathStyle,
      credentials: s3.credentials ?? undefined,
      maxAttempts: 2,
      requestHandler: {
        connectionTimeout: Math.min(5000, s3.timeoutMs),
        // Until the answer's headers: a server that accepts and never answers fails the call instead of hanging it.
        requestTimeout: s3.timeoutMs,
        throwOnRequestTimeout: true,
      },
    });
  }

  onModuleDestroy(): void {
    this.client.destroy();
  }

  private keyOf(key: string): string {
    return this.prefix + checkedStorageKey(key);
  }

  async put(key: string, bytes: Buffer, options?: PutOptions): Promise<void> {
    const Key = this.keyOf(key);
    await this.call(() =>
      this.client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key, Body: bytes, ContentType: options?.contentType }),
      ),
    );
  }

  async putStream(key: string, source: Readable, options?: PutOptions): Promise<{ size: number }> {
    const Key = this.keyOf(key);
    let size = 0;
    const body = new PassThrough();
    body.on('data', (chunk: Buffer) => (size += chunk.length));
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key, Body: body, ContentType: options?.contentType },
      partSize: PART_SIZE,
      queueSize: 1,
      leavePartsOnError: false,
    });
    // A source that fails must stop the upload before it completes: the multipart upload is then aborted
    // (or, for a single-part object, never sent), so nothing appears under the key.
    const feeding = pipeline(source, body).catch(async (error: unknown) => {
      await upload.abort().catch(() => undefined);
      throw error;
    });
    const [fed, uploaded] = await Promise.allSettled([feeding, this.call(() => upload.done())]);
    if (fed.status === 'rejected') {
      // An object the SDK managed to complete from a cut stream would be partial: remove it.
      if (uploaded.status === 'fulfilled') await this.delete(key).catch(() => undefined);
      throw fed.reason;
    }
    if (uploaded.status === 'rejected') throw uploaded.reason;
    return { size };
  }

  async get(key: string): Promise<Buffer | null> {
    const opened = await this.open(key);
    if (!opened) return null;
    const chunks: Buffer[] = [];
    for await (const chunk of opened.stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  async open(key: string): Promise<OpenedObject | null> {
    const Key = this.keyOf(key);
    const answer = await this.call(() => this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key })), true);
    if (!answer?.Body) return null;
    return {
      stream: answer.Body as Readable,
      size: answer.ContentLength ?? 0,
      ...(answer.ContentType ? { contentType: answer.ContentType } : {}),
    };
  }

  async delete(key: string): Promise<void> {
    const Key = this.keyOf(key);
    await this.call(() => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key })));
  }

  async stat(key: string): Promise<StoredObject | null> {
    const Key = this.keyOf(key);
    const head = await this.call(() => this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key })), true);
    if (!head) return null;
    return { key, size: head.ContentLength ?? 0, modifiedAt: head.LastModified ?? new Date(0) };
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    // ListObjects (v1) pages by the last key seen (Marker), which every S3-compatible server implements alike;
    // v2's opaque continuation tokens are not (s3rver's need a cipher OpenSSL 3 no longer ships).
    let marker: string | undefined;
    do {
      const page = await this.call(() =>
        this.client.send(new ListObjectsCommand({ Bucket: this.bucket, Prefix: this.prefix + prefix, Marker: marker })),
      );
      const contents = page.Contents ?? [];
      for (const object of contents) {
        if (!object.Key?.startsWith(this.prefix)) continue;
        const key = object.Key.slice(this.prefix.length);
        if (key.startsWith('.ready-')) continue;
        yield { key, size: object.Size ?? 0, modifiedAt: object.LastModified ?? new Date(0) };
      }
      marker = page.IsTruncated ? (page.NextMarker ?? contents.at(-1)?.Key) : undefined;
    } while (marker);
  }

  async checkWritable(): Promise<void> {
    const probe = `.ready-${randomUUID()}`;
    await this.put(probe, Buffer.from('ok'), { contentType: 'text/plain' });
    await this.delete(probe);
  }

  /** Runs one S3 call; "not found" is null when `missingIsNull`, other failures become storage errors. */
  private async call<T>(run: () => Promise<T>, missingIsNull: true): Promise<T | null>;
  private async call<T>(run: () => Promise<T>): Promise<T>;
  private async call<T>(run: () => Promise<T>, missingIsNull = false): Promise<T | null> {
    try {
      return await run();
    } catch (error) {
      if (missingIsNull && isNotFound(error)) return null;
      throw asStorageError(error);
    }
  }
}

function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return NOT_FOUND.has(e?.name ?? '') || e?.$metadata?.httpStatusCode === 404;
}

/** An S3 SDK failure as the product's error: the server answered (502) or could not be reached in time (503). */
export function asStorageError(error: unknown): Error {
  if (error instanceof DomainError) return error;
  if (error instanceof S3ServiceException) {
    const status = error.$metadata?.httpStatusCode;
    if (status === 503 || status === 429) return new StorageUnavailableError(`${error.name} (${status})`);
    return new StorageUpstreamError(`${error.name}${status ? ` (${status})` : ''}: ${error.message}`);
  }
  // Anything else the SDK raised (it carries `$metadata`) never got an answer: refused, reset, timed out.
  const e = error as { code?: string; name?: string; $metadata?: unknown };
  const code = e?.code ?? e?.name ?? '';
  if (
    e?.$metadata !== undefined ||
    /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|EPIPE|TimeoutError|RequestTimeout)$/.test(
      code,
    )
  ) {
    return new StorageUnavailableError(errorMessage(error).replace(/^AWS SDK error wrapper for (Error: )?/, ''));
  }
  return error instanceof Error ? error : new Error(errorMessage(error));
}
