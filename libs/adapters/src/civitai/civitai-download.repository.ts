import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { RunRowRepository } from '@app/core';
import { DataSource, In } from 'typeorm';
import { ACTIVE_DOWNLOAD_STATUSES, CivitaiDownloadEntity, CivitaiDownloadStatus } from './civitai-download.entity.js';

@Injectable()
export class CivitaiDownloadRepository extends RunRowRepository<CivitaiDownloadEntity> {
  constructor(@InjectDataSource() dataSource: DataSource) {
    super(dataSource, CivitaiDownloadEntity, {
      queued: CivitaiDownloadStatus.Queued,
      running: CivitaiDownloadStatus.Running,
      active: ACTIVE_DOWNLOAD_STATUSES,
    });
  }

  list(limit: number): Promise<CivitaiDownloadEntity[]> {
    return this.repo.find({ order: { createdAt: 'DESC' }, take: limit });
  }

  /** An active download to the same file, if any. */
  findActiveAt(rootId: string, relativePath: string): Promise<CivitaiDownloadEntity | null> {
    return this.repo.findOneBy({ rootId, relativePath, status: In([...ACTIVE_DOWNLOAD_STATUSES]) });
  }

  async saveProgress(
    id: string,
    fields: Partial<Pick<CivitaiDownloadEntity, 'bytesDone' | 'bytesTotal' | 'bytesFetched' | 'etag'>>,
  ): Promise<void> {
    await this.repo.update({ id, status: CivitaiDownloadStatus.Running }, fields);
  }

  /** Ends a download that has not ended yet; false when it had. */
  async finish(
    id: string,
    fields: Partial<Pick<CivitaiDownloadEntity, 'status' | 'error' | 'adapterId' | 'bytesDone' | 'bytesFetched'>>,
  ): Promise<boolean> {
    const result = await this.repo.update(
      { id, status: In([...ACTIVE_DOWNLOAD_STATUSES]) },
      { ...fields, finishedAt: new Date() },
    );
    return result.affected === 1;
  }
}
