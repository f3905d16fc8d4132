import { Transform } from 'class-transformer';
import { IsBoolean, IsEnum, Matches } from 'class-validator';
import {
  type AdapterConflict,
  type ArchiveEstimate,
  type ArchiveImportReport,
  type BackupInfo,
  BackupKind,
  ConflictPolicy,
  type RowCounts,
} from '@app/archive';
import { AdapterUserField } from '@app/adapters';
import { ApiDateTime, ApiInteger, ApiUuid } from '../common/api-docs.js';
import { IsOptionalNonNull } from '../common/validation.js';

const toBoolean = ({ value }: { value: unknown }): unknown =>
  value === 'true' ? true : value === 'false' ? false : value;

export class ArchiveEstimateDto implements ArchiveEstimate {
  @ApiInteger()
  adapters: number;
  @ApiInteger()
  results: number;
  @ApiInteger()
  deliveries: number;
  /** Null when this database has no recipes. */
  @ApiInteger({ nullable: true })
  recipes: number | null;
  /**
   * Files an export with files would carry (LoRA files, sidecars, previews, result images): LoRA files and sidecars
   * as the last import recorded them, previews measured now, result images as their rows recorded them.
   */
  @ApiInteger()
  files: number;
  /** Their bytes, counted the same way. */
  @ApiInteger()
  fileBytes: number;
}

export class ExportArchiveDto {
  /** Also carry the LoRA files, sidecars, previews and result images (default false). */
  @IsOptionalNonNull()
  @IsBoolean()
  withFiles?: boolean;
}

export class ImportArchiveQueryDto {
  /** Report what would be added, merged or conflict, and change nothing (default false). */
  @IsOptionalNonNull()
  @Transform(toBoolean)
  @IsBoolean()
  dryRun?: boolean;

  /** When both sides edited a field (default keep-mine). */
  @IsOptionalNonNull()
  @IsEnum(ConflictPolicy)
  policy?: ConflictPolicy;
}

/** What the archive holds: the estimate's counts, written, plus the result → adapter links. */
export class ArchiveCountsDto extends ArchiveEstimateDto {
  @ApiInteger()
  resultAdapters: number;
}

export class ArchiveManifestDto {
  format: string;
  @ApiInteger()
  formatVersion: number;
  productVersion: string;
  @ApiDateTime()
  createdAt: string;
  sourceDatabase: string;
  withFiles: boolean;
  counts: ArchiveCountsDto;
}

export class ArchiveRootMappingDto {
  archiveRootId: string;
  archivePath: string;
  /** The local root its adapters and files go to; null: none matches, they are skipped. */
  localRootId: string | null;
}

export class AdapterImportCountsDto {
  @ApiInteger()
  added: number;
  @ApiInteger()
  merged: number;
  @ApiInteger()
  conflicts: number;
  @ApiInteger()
  unchanged: number;
  @ApiInteger()
  skipped: number;
}

export class AdapterConflictDto implements AdapterConflict {
  @ApiUuid()
  archiveId: string;
  @ApiUuid()
  localId: string;
  name: string;
  @IsEnum(AdapterUserField, { each: true })
  fields: AdapterUserField[];
}

export class RowCountsDto implements RowCounts {
  @ApiInteger()
  added: number;
  @ApiInteger()
  existing: number;
}

export class FileImportCountsDto {
  @ApiInteger()
  copied: number;
  @ApiInteger()
  existing: number;
  @ApiInteger()
  skipped: number;
}

export class ArchiveImportReportDto implements ArchiveImportReport {
  dryRun: boolean;
  policy: ConflictPolicy;
  manifest: ArchiveManifestDto;
  roots: ArchiveRootMappingDto[];
  adapters: AdapterImportCountsDto;
  /** The first 100 conflicts; `adapters.conflicts` counts them all. */
  conflicts: AdapterConflictDto[];
  results: RowCountsDto;
  resultAdapters: RowCountsDto;
  deliveries: RowCountsDto;
  /** Zero when the archive or this database has no recipes. */
  recipes: RowCountsDto;
  files: FileImportCountsDto;
}

export class BackupDto implements BackupInfo {
  name: string;
  kind: BackupKind;
  @ApiInteger()
  size: number;
  @ApiDateTime()
  createdAt: Date;
}

export class BackupListDto {
  items: BackupDto[];
}

export class BackupParamsDto {
  @Matches(/^[A-Za-z0-9._-]{1,128}$/)
  name: string;
}
