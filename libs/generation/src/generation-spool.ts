import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@app/core';
import { type SdImageContentType, type Txt2ImgResult } from './sdnext/index.js';

/** What SD.Next answered for a job, kept until its images are in the storage. */
export interface SpooledAnswer {
  backendId: string;
  result: Txt2ImgResult;
}

interface SpoolManifest {
  backendId: string;
  images: { file: string; contentType: SdImageContentType }[];
  info: Record<string, unknown>;
  infoText: string;
  parameters: Record<string, unknown>;
  seed: number | null;
  seeds: number[];
}

const MANIFEST = 'answer.json';

/**
 * A generation's answer on local disk (`DATA_DIR/spool/generations/<job id>/`) while a remote storage (S3) cannot
 * take its images: SD.Next cannot be asked for them again, so a process that stops, or a job that runs out of
 * storage retries, must not lose them. The next run of the job (after a restart, or its retry) finishes from the
 * spool without sending anything to SD.Next. With local storage there is nothing to guard against: disabled.
 *
 * Each answer is written to a temporary folder, each file flushed to disk, and the folder renamed into place last:
 * a folder under its job's name is always complete.
 */
@Injectable()
export class GenerationSpool {
  private readonly logger = new Logger(GenerationSpool.name);
  private readonly root: string | null;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.root = config.storage.kind === 's3' ? join(config.dataDir, 'spool', 'generations') : null;
  }

  async save(jobId: string, answer: SpooledAnswer): Promise<void> {
    if (!this.root) return;
    const temp = join(this.root, `.${jobId}.${randomUUID()}.tmp`);
    await mkdir(temp, { recursive: true });
    try {
      const { result } = answer;
      const images = result.images.map((image, index) => ({ file: `${index}.bin`, contentType: image.contentType }));
      for (const [index, image] of result.images.entries()) await writeDurably(join(temp, `${index}.bin`), image.bytes);
      const manifest: SpoolManifest = {
        backendId: answer.backendId,
        images,
        info: result.info,
        infoText: result.infoText,
        parameters: result.parameters,
        seed: result.seed,
        seeds: result.seeds,
      };
      await writeDurably(join(temp, MANIFEST), Buffer.from(JSON.stringify(manifest)));
      const target = join(this.root, jobId);
      await rm(target, { recursive: true, force: true });
      await rename(temp, target);
    } catch (error) {
      await rm(temp, { recursive: true, force: true });
      throw error;
    }
  }

  /** The spooled answer of the job, or null when there is none (or it cannot be read: then it is reported). */
  async load(jobId: string): Promise<SpooledAnswer | null> {
    if (!this.root) return null;
    const dir = join(this.root, jobId);
    let manifest: SpoolManifest;
    try {
      manifest = JSON.parse(await readFile(join(dir, MANIFEST), 'utf8')) as SpoolManifest;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      this.logger.error(`The spooled answer of generation ${jobId} in ${dir} cannot be read: ${String(error)}`);
      return null;
    }
    const images = await Promise.all(
      manifest.images.map(async (i) => ({ bytes: await readFile(join(dir, i.file)), contentType: i.contentType })),
    );
    return {
      backendId: manifest.backendId,
      result: {
        images,
        info: manifest.info,
        infoText: manifest.infoText,
        parameters: manifest.parameters,
        seed: manifest.seed,
        seeds: manifest.seeds,
      },
    };
  }

  async remove(jobId: string): Promise<void> {
    if (!this.root) return;
    await rm(join(this.root, jobId), { recursive: true, force: true });
  }

  /** Where a job's answer is kept (for messages). */
  pathOf(jobId: string): string | null {
    return this.root ? join(this.root, jobId) : null;
  }
}

async function writeDurably(path: string, bytes: Buffer): Promise<void> {
  const file = await open(path, 'wx');
  try {
    await file.writeFile(bytes);
    await file.sync();
  } finally {
    await file.close();
  }
}
