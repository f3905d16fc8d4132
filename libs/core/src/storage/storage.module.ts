import { Global, Module } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/app-config.js';
import { FileStorage, LocalFileStorage } from './file-storage.js';
import { ThumbnailService } from '../media/thumbnail.service.js';

/** Binds the FileStorage port (an S3-compatible bucket when STORAGE_URL is set, else DATA_DIR/storage) and thumbnails. */
@Global()
@Module({
  providers: [
    {
      provide: FileStorage,
      inject: [APP_CONFIG],
      // The AWS SDK is loaded only when a bucket is configured.
      useFactory: async (config: AppConfig): Promise<FileStorage> =>
        config.storage.kind === 's3'
          ? new (await import('./s3-file-storage.js')).S3FileStorage(config)
          : new LocalFileStorage(config),
    },
    ThumbnailService,
  ],
  exports: [FileStorage, ThumbnailService],
})
export class StorageModule {}
