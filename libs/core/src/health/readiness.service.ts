import { Injectable } from '@nestjs/common';
import { HealthCheckService, type HealthCheckResult, HealthIndicatorService } from '@nestjs/terminus';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { JobQueue } from '../jobs/job-queue.js';
import { FileStorage } from '../storage/file-storage.js';
import { errorMessage } from '../errors/domain-error.js';
import { MigrationStatusService, pendingMigrationsMessage } from './migration-status.service.js';

const withTimeout = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([
    promise,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms).unref(),
    ),
  ]);

/** `/health/ready`: the database answers and has every migration, Redis answers when configured, and storage is writable. */
@Injectable()
export class ReadinessService {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly jobs: JobQueue,
    private readonly storage: FileStorage,
    private readonly migrations: MigrationStatusService,
  ) {}

  check(): Promise<HealthCheckResult> {
    const probes = [
      () => this.probe('database', () => this.dataSource.query('SELECT 1')),
      () => this.probe('storage', () => this.storage.checkWritable()),
      () => this.probe('migrations', () => this.assertMigrated()),
    ];
    if (this.jobs.mode === 'bullmq') probes.push(() => this.probe('redis', () => this.jobs.ping()));
    return this.health.check(probes);
  }

  private async assertMigrated(): Promise<void> {
    const pending = await this.migrations.pending();
    if (pending.length > 0) throw new Error(pendingMigrationsMessage(pending));
  }

  private async probe(key: string, run: () => Promise<unknown>) {
    const indicator = this.indicators.check(key);
    try {
      await withTimeout(run(), 3000, key);
      return indicator.up();
    } catch (error) {
      return indicator.down({ message: errorMessage(error) });
    }
  }
}
