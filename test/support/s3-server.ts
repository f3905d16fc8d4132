import { mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface S3rverInstance {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
}
type S3rverClass = new (options: {
  port: number;
  address: string;
  silent: boolean;
  directory: string;
  configureBuckets: { name: string }[];
}) => S3rverInstance;

const S3rver = createRequire(import.meta.url)('s3rver') as S3rverClass;

/** A local S3-compatible server (s3rver) on a free port, with one bucket, its files in a temporary folder. */
export class TestS3Server {
  private server?: S3rverInstance;
  private directory?: string;
  port = 0;

  constructor(readonly bucket = 'lora-test') {}

  async start(): Promise<this> {
    this.directory = mkdtempSync(join(tmpdir(), 's3rver-'));
    this.server = new S3rver({
      port: 0,
      address: '127.0.0.1',
      silent: true,
      directory: this.directory,
      configureBuckets: [{ name: this.bucket }],
    });
    this.port = (await this.server.run()).port;
    return this;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The environment that points the product at this server (optionally through another port, e.g. a proxy). */
  env(prefix: string, port = this.port): Record<string, string> {
    return {
      STORAGE_URL: `s3://${this.bucket}/${prefix}`,
      S3_ENDPOINT: `http://127.0.0.1:${port}`,
      S3_REGION: 'us-east-1',
      S3_FORCE_PATH_STYLE: 'true',
      S3_TIMEOUT_SECONDS: '3',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
    };
  }

  /** Sets an object's LastModified (s3rver reports its backing file's mtime), e.g. to make it older than a grace period. */
  backdate(objectKey: string, modifiedAt: Date): void {
    const parts = objectKey.split('/');
    const path = join(this.directory!, this.bucket, ...parts.slice(0, -1), `${parts.at(-1)!}._S3rver_object`);
    utimesSync(path, modifiedAt, modifiedAt);
  }

  async stop(): Promise<void> {
    await this.server?.close();
    if (this.directory) rmSync(this.directory, { recursive: true, force: true });
  }
}
