import { type DynamicModule, Module } from '@nestjs/common';
import { AdaptersModule } from '@app/adapters';
import { LeasesModule } from '@app/core';
import { ArchiveExportService } from './archive-export.service.js';
import { ArchiveImportService } from './archive-import.service.js';
import { ArchiveRepository } from './archive.repository.js';
import { BackupScheduler, BackupService } from './backup.service.js';

/** Archive export and import, and backups (see docs/archive.md). */
@Module({
  imports: [AdaptersModule, LeasesModule],
  providers: [ArchiveRepository, ArchiveExportService, ArchiveImportService, BackupService],
  exports: [ArchiveExportService, ArchiveImportService, BackupService],
})
export class ArchiveModule {
  /** The API hosts the backup schedule; the CLI does not. */
  static forApp(options: { scheduleBackups: boolean }): DynamicModule {
    return { module: ArchiveModule, providers: options.scheduleBackups ? [BackupScheduler] : [] };
  }
}
