import { type DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { DatabaseType, loadConfig } from '../config/app-config.js';
import { buildDataSourceOptions, type EntityList, type MigrationList } from './data-source-options.js';
import { bindSqliteNumbers } from './sqlite-bound-numbers.js';

export interface DatabaseModuleOptions {
  entities: EntityList;
  migrations: MigrationList;
  /** Apply pending migrations at boot. Embedded mode does; scale-out runs `cli migrate` as a deploy step. */
  migrateOnBoot: boolean;
}

@Module({})
export class DatabaseModule {
  static forRoot(options: DatabaseModuleOptions): DynamicModule {
    return {
      module: DatabaseModule,
      global: true,
      imports: [
        TypeOrmModule.forRootAsync({
          useFactory: () => {
            const config = loadConfig();
            return {
              ...buildDataSourceOptions(config, options),
              migrationsRun: options.migrateOnBoot && config.database.type === DatabaseType.Sqlite,
              // Fail fast at boot; the readiness probe reports later outages.
              retryAttempts: 2,
              retryDelay: 1000,
            };
          },
          dataSourceFactory: (options?: DataSourceOptions) => {
            if (!options) throw new Error('DatabaseModule: no data source options');
            const dataSource = new DataSource(options);
            return Promise.resolve(options.type === 'better-sqlite3' ? bindSqliteNumbers(dataSource) : dataSource);
          },
        }),
      ],
    };
  }
}
