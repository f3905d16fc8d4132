import type { CivitaiDownloadEntity } from '@app/adapters';
import { jobTimesOf } from '../common/list-page.dto.js';
import type { DownloadDto } from './downloads.dto.js';

export const toCivitaiDownloadDto = (row: CivitaiDownloadEntity): DownloadDto => ({
  id: row.id,
  status: row.status,
  modelId: row.modelId,
  versionId: row.versionId,
  rootId: row.rootId,
  relativePath: row.relativePath,
  expectedSha256: row.expectedSha256,
  bytesDone: row.bytesDone,
  bytesTotal: row.bytesTotal,
  bytesFetched: row.bytesFetched,
  adapterId: row.adapterId,
  error: row.error,
  ...jobTimesOf(row),
});
