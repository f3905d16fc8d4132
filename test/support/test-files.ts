// What a test does to the product's file storage behind its back (seed files, delete one, age one, look for one),
// the same way on a local storage folder and on an S3 bucket served by the tests' s3rver.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, rm, utimes, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { DeleteObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { TestS3Server } from './s3-server.js';
import { tempDir } from './test-services.js';

export interface TestFiles {
  /** Where seeders write files (`seedResultRows`); call `publish` after seeding so the storage serves them. */
  readonly seedDir: string;
  /** Makes the files written under `seedDir` since the last call visible in the storage. */
  publish(): Promise<void>;
  write(key: string, bytes: Buffer, modifiedAt?: Date): Promise<void>;
  exists(key: string): Promise<boolean>;
  remove(key: string): Promise<void>;
  close(): void;
}

/** The storage folder of a local-storage deployment (`DATA_DIR/storage`). */
export class LocalTestFiles implements TestFiles {
  constructor(readonly seedDir: string) {}

  async publish(): Promise<void> {}

  async write(key: string, bytes: Buffer, modifiedAt?: Date): Promise<void> {
    const path = join(this.seedDir, key);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, bytes);
    if (modifiedAt) await utimes(path, modifiedAt, modifiedAt);
  }

  exists(key: string): Promise<boolean> {
    return Promise.resolve(existsSync(join(this.seedDir, key)));
  }

  async remove(key: string): Promise<void> {
    await rm(join(this.seedDir, key), { force: true });
  }

  close(): void {}
}

/** The objects under `prefix/` in the tests' s3rver bucket; seeded files are staged locally, then uploaded. */
export class S3TestFiles implements TestFiles {
  private readonly staging = tempDir('s3-seed');
  private readonly client: S3Client;

  constructor(
    private readonly s3: TestS3Server,
    private readonly prefix: string,
  ) {
    this.client = new S3Client({
      region: 'us-east-1',
      endpoint: s3.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
  }

  get seedDir(): string {
    return this.staging.path;
  }

  async publish(): Promise<void> {
    const keys = filesUnder(this.staging.path);
    for (let i = 0; i < keys.length; i += 16) {
      await Promise.all(
        keys.slice(i, i + 16).map((key) => this.write(key, readFileSync(join(this.staging.path, key)))),
      );
    }
    for (const entry of readdirSync(this.staging.path)) rmSync(join(this.staging.path, entry), { recursive: true });
  }

  async write(key: string, bytes: Buffer, modifiedAt?: Date): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.s3.bucket, Key: this.objectKey(key), Body: bytes }));
    if (modifiedAt) this.s3.backdate(this.objectKey(key), modifiedAt);
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.s3.bucket, Key: this.objectKey(key) }));
      return true;
    } catch (error) {
      if ((error as { name?: string }).name === 'NotFound') return false;
      throw error;
    }
  }

  async remove(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.s3.bucket, Key: this.objectKey(key) }));
  }

  close(): void {
    this.client.destroy();
    this.staging.remove();
  }

  private objectKey(key: string): string {
    return `${this.prefix}/${key}`;
  }
}

function filesUnder(root: string): string[] {
  const found: string[] = [];
  const pending = [root];
  while (pending.length > 0) {
    const dir = pending.pop()!;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) pending.push(full);
      else found.push(relative(root, full).split(sep).join('/'));
    }
  }
  return found;
}
