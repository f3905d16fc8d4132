import { Body, Controller, HttpCode, Post, Res, StreamableFile } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { InvalidInputError, Role } from '@app/core';
import { RequireRole } from '@app/core/http';
import { ResultExportService, ResultRetentionService, type ResultSelection } from '@app/results';
import type { Response } from 'express';
import { ApiWriteErrors } from '../common/api-docs.js';
import { ExportEstimateDto, ExportResultsDto, RetentionReportDto } from './results-export.dto.js';

/** A body's selection: its ids, or its filters; both at once is refused. */
function selectionOf(body: ExportResultsDto): ResultSelection {
  const { ids, from, to, ...filters } = body;
  const filtered = from !== undefined || to !== undefined || Object.values(filters).some((v) => v !== undefined);
  if (ids !== undefined) {
    if (filtered) throw InvalidInputError.field('ids', 'select by ids or by filters, not both', 'export_selection');
    return { ids };
  }
  return {
    filters: {
      ...filters,
      from: from === undefined ? undefined : new Date(from),
      to: to === undefined ? undefined : new Date(to),
    },
  };
}

@ApiTags('results')
@Controller('results')
export class ResultsExportController {
  constructor(
    private readonly exports: ResultExportService,
    private readonly retention: ResultRetentionService,
  ) {}

  /** How many results an export of this selection holds and about how big the ZIP will be. */
  @Post('export/estimate')
  @HttpCode(200)
  @RequireRole(Role.Viewer)
  @ApiOkResponse({ type: ExportEstimateDto })
  @ApiWriteErrors()
  estimate(@Body() body: ExportResultsDto): Promise<ExportEstimateDto> {
    return this.exports.estimate(selectionOf(body));
  }

  /**
   * The selection as a ZIP streamed while it is made: `results/<id>.<ext>` (the image as stored) and
   * `results/<id>.json` (its metadata) per result, then `index.json`. A selection matching nothing is refused with
   * 400 `export_empty`.
   */
  @Post('export')
  @HttpCode(200)
  @RequireRole(Role.Viewer)
  @ApiOkResponse({
    description: 'The ZIP archive',
    content: { 'application/zip': { schema: { type: 'string', format: 'binary' } } },
  })
  @ApiWriteErrors()
  async download(@Body() body: ExportResultsDto, @Res({ passthrough: true }) res: Response): Promise<StreamableFile> {
    const abort = new AbortController();
    res.once('close', () => abort.abort());
    const zip = await this.exports.start(selectionOf(body), abort.signal);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Result-Count', String(zip.count));
    return new StreamableFile(zip.stream, {
      type: 'application/zip',
      disposition: `attachment; filename="${zip.fileName}"`,
    });
  }

  /** What a retention run would remove now (count, bytes, oldest and newest), removing nothing. Admin only. */
  @Post('retention/dry-run')
  @HttpCode(200)
  @RequireRole(Role.Admin)
  @ApiOkResponse({ type: RetentionReportDto })
  @ApiWriteErrors()
  retentionDryRun(): Promise<RetentionReportDto> {
    return this.retention.run(true);
  }

  /** Applies the retention policy now; removed results emit `result.deleted`. Admin only. */
  @Post('retention/run')
  @HttpCode(200)
  @RequireRole(Role.Admin)
  @ApiOkResponse({ type: RetentionReportDto })
  @ApiWriteErrors(409)
  retentionRun(): Promise<RetentionReportDto> {
    return this.retention.run(false);
  }
}
