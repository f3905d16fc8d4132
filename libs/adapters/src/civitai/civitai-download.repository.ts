import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In, LessThan, MoreThan, type Repository } from 'typeorm';
import { ACTIVE_DOWNLOAD_STATUSES, CivitaiDownloadEntity, CivitaiDownloadStatus } from './civitai-download.entity.js';

@Injectable()
export class CivitaiDownloadRepository {
  private readonly repo: Repository<CivitaiDownloadEntity>;

  constructor(@InjectDataSource() dataSource: DataSource) {
    this.repo = dataSource.getRepository(CivitaiDownloadEntity);
  }

  async create(row: CivitaiDownloadEntity): Promise<CivitaiDownloadEntity> {
    await this.repo.insert(row);
    return row;
  }

  findById(id: string): Promise<CivitaiDownloadEntity | null> {
    return this.repo.findOneBy({ id });
  }

  list(limit: number): Promise<CivitaiDownloadEntity[]> {
    return this.repo.find({ order: { createdAt: 'DESC' }, take: limit });
  }

  /** An active download to the same file, if any. */
  findActiveAt(rootId: string, relativePath: string): Promise<CivitaiDownloadEntity | null> {
    return this.repo.findOneBy({ rootId, relativePath, status: In([...ACTIVE_DOWNLOAD_STATUSES]) });
  }

  async findQueuedIds(olderThan: Date, afterId: string | undefined, limit: number): Promise<string[]> {
    const rows = await this.repo.find({
      select: { id: true },
      where: {
        status: CivitaiDownloadStatus.Queued,
        createdAt: LessThan(olderThan),
        ...(afterId === undefined ? {} : { id: MoreThan(afterId) }),
      },
      order: { id: 'ASC' },
      take: limit,
    });
    return rows.map((r) => r.id);
  }

  async markRunning(id: string): Promise<boolean> {
    const result = await this.repo.update(
      { id, status: In([...ACTIVE_DOWNLOAD_STATUSES]) },
      { status: CivitaiDownloadStatus.Running, startedAt: new Date(), error: null },
    );
    return result.affected === 1;
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
