import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req, StreamableFile } from '@nestjs/common';
import {
  ApiBody,
  ApiConsumes,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Readable } from 'node:stream';
import { ArchiveExportService, ArchiveImportService, BackupService, ConflictPolicy } from '@app/archive';
import { Role } from '@app/core';
import { RequireRole } from '@app/core/http';
import { ApiErrorResponses, ApiReadErrors, ApiWriteErrors } from '../common/api-docs.js';
import {
  ArchiveEstimateDto,
  ArchiveImportReportDto,
  BackupDto,
  BackupListDto,
  BackupParamsDto,
  ExportArchiveDto,
  ImportArchiveQueryDto,
} from './archive.dto.js';
import { ArchiveUploads } from './archive-uploads.js';

const zip = { 'application/zip': { schema: { type: 'string', format: 'binary' } } };
const octets = { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } };

const stamp = () => new Date().toISOString().replace(/[-:.]/g, '');

/** Archive export and import of the whole library; admin only (see docs/archive.md). */
@ApiTags('archive')
@RequireRole(Role.Admin)
@Controller()
export class ArchiveController {
  constructor(
    private readonly exporter: ArchiveExportService,
    private readonly importer: ArchiveImportService,
    private readonly uploads: ArchiveUploads,
    private readonly backups: BackupService,
  ) {}

  /** What an export would carry: rows, and the files and bytes of an export with files. */
  @Get('archive/estimate')
  @ApiOkResponse({ type: ArchiveEstimateDto })
  @ApiReadErrors()
  estimate(): Promise<ArchiveEstimateDto> {
    return this.exporter.estimate();
  }

  /** The library as a ZIP archive, streamed: adapters with user fields, results, deliveries, recipes, optionally files. */
  @Post('archive/export')
  @HttpCode(200)
  @ApiOkResponse({ description: 'The archive', content: zip })
  @ApiWriteErrors()
  export(@Body() body: ExportArchiveDto): StreamableFile {
    return new StreamableFile(this.exporter.export({ withFiles: body.withFiles ?? false }), {
      type: 'application/zip',
      disposition: `attachment; filename="lora-manager-${stamp()}.zip"`,
    });
  }

  /**
   * Reads an archive sent as the raw request body (`Content-Type: application/zip`): a dry run reports what would be
   * added, merged or conflict; otherwise it is applied in one transaction with the conflict policy.
   */
  @Post('archive/import')
  @HttpCode(200)
  @ApiConsumes('application/zip')
  @ApiBody({ schema: { type: 'string', format: 'binary' } })
  @ApiOkResponse({ type: ArchiveImportReportDto })
  @ApiErrorResponses(400, 401, 403, 409, 413, 415, 503)
  async import(@Query() query: ImportArchiveQueryDto, @Req() body: Readable): Promise<ArchiveImportReportDto> {
    return this.uploads.withUpload(body, (path) =>
      this.importer.importFile(path, {
        dryRun: query.dryRun ?? false,
        policy: query.policy ?? ConflictPolicy.KeepMine,
      }),
    );
  }

  /** Backups, newest first. */
  @Get('backups')
  @ApiOkResponse({ type: BackupListDto })
  @ApiReadErrors()
  async listBackups(): Promise<BackupListDto> {
    return { items: await this.backups.list() };
  }

  /** Makes a backup now: SQLite through its online backup API, PostgreSQL as the logical archive. */
  @Post('backups')
  @ApiCreatedResponse({ type: BackupDto })
  @ApiWriteErrors()
  createBackup(): Promise<BackupDto> {
    return this.backups.create();
  }

  /** The backup file, for safekeeping or for `restore-backup`. */
  @Get('backups/:name')
  @ApiOkResponse({ description: 'The backup file', content: { ...zip, ...octets } })
  @ApiReadErrors(404)
  async downloadBackup(@Param() params: BackupParamsDto): Promise<StreamableFile> {
    const backup = await this.backups.open(params.name);
    return new StreamableFile(backup.stream, {
      type: params.name.endsWith('.zip') ? 'application/zip' : 'application/octet-stream',
      length: backup.size,
      disposition: `attachment; filename="${params.name}"`,
    });
  }

  /** Deletes a backup. */
  @Delete('backups/:name')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiReadErrors(404)
  async deleteBackup(@Param() params: BackupParamsDto): Promise<void> {
    await this.backups.delete(params.name);
  }
}
