import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Inject, Injectable, PayloadTooLargeException } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, InvalidInputError } from '@app/core';

/** An uploaded archive is spooled to a file under DATA_DIR/tmp (ZIP needs random access), and removed afterwards. */
@Injectable()
export class ArchiveUploads {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  async withUpload<T>(body: Readable & { body?: unknown }, use: (path: string) => Promise<T>): Promise<T> {
    // A JSON body was read by the JSON parser: it is no archive, and its fields are named as refused.
    if (typeof body.body === 'object' && body.body !== null && !Buffer.isBuffer(body.body)) {
      const message = 'send the archive itself as the body with Content-Type: application/zip';
      const fields = Array.isArray(body.body) ? [] : Object.keys(body.body).slice(0, 20);
      throw new InvalidInputError('archive_missing', `body: ${message}`, [
        { field: 'body', message },
        ...fields.map((field) => ({ field, message: 'this route takes a ZIP body, not JSON fields' })),
      ]);
    }
    const folder = join(this.config.dataDir, 'tmp');
    await mkdir(folder, { recursive: true });
    const path = join(folder, `upload-${randomUUID()}.zip`);
    const max = this.config.archive.maxUncompressedBytes;
    let size = 0;
    const cap = new Transform({
      transform(part: Buffer, _encoding, done) {
        size += part.length;
        if (size > max) done(new PayloadTooLargeException(`The archive is larger than ${max} bytes (ARCHIVE_MAX_GB)`));
        else done(null, part);
      },
    });
    try {
      await pipeline(body, cap, createWriteStream(path));
      if (size === 0) throw InvalidInputError.field('body', 'send the archive as the request body', 'archive_missing');
      return await use(path);
    } finally {
      await rm(path, { force: true });
    }
  }
}
