import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { pendingMigrations } from '../database/migration-status.js';

/** What readiness and the boot log say while this build's migrations have not all run on the database. */
export const pendingMigrationsMessage = (names: string[]): string =>
  `${names.length} database migration(s) pending (${names.join(', ')}): run \`migrate\` (npm run cli -- migrate) before serving`;

/**
 * Whether the database has every migration this build knows. Scale-out processes never migrate by themselves, so one
 * started before `migrate` ran says so in its log and in `/health/ready` instead of serving on an old schema.
 */
@Injectable()
export class MigrationStatusService implements OnApplicationBootstrap {
  private readonly logger = new Logger(MigrationStatusService.name);
  /** Once every migration has run it stays so for this build: later checks cost nothing. */
  private upToDate = false;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async pending(): Promise<string[]> {
    if (this.upToDate) return [];
    const names = await pendingMigrations(this.dataSource);
    this.upToDate = names.length === 0;
    return names;
  }

  async onApplicationBootstrap(): Promise<void> {
    const names = await this.pending().catch(() => []);
    if (names.length > 0) this.logger.warn(`${pendingMigrationsMessage(names)}; /health/ready answers 503 until then`);
  }
}
