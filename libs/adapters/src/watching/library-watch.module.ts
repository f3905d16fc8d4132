import {
  type BeforeApplicationShutdown,
  type DynamicModule,
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { APP_CONFIG, type AppConfig, errorMessage, LeasesModule } from '@app/core';
import { AdaptersModule } from '../adapters.module.js';
import { LibraryWatchService, type WatchHandle } from './library-watch.service.js';

/** The app this module runs in: the API hosts the watcher in embedded mode, the workers scaled out, the CLI never. */
export enum WatchHostApp {
  Api = 'api',
  Worker = 'worker',
  Cli = 'cli',
}

const WATCH_HOST_APP = Symbol('WATCH_HOST_APP');

/** Starts `IMPORT_ON_START` and `LORA_WATCH` with the app that hosts them in this mode, and stops the watcher with it. */
@Injectable()
export class LibraryWatchStarter implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(LibraryWatchStarter.name);
  private handle: WatchHandle | null = null;

  constructor(
    private readonly watch: LibraryWatchService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(WATCH_HOST_APP) private readonly app: WatchHostApp,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const hosts = this.app === (this.config.redis ? WatchHostApp.Worker : WatchHostApp.Api);
    if (!hosts || this.config.loraRoots.length === 0) return;
    if (this.config.importOnStart) {
      await this.watch.importOnStart().catch((error: unknown) => {
        this.logger.warn(`Start-up import not queued: ${errorMessage(error)}`);
      });
    }
    if (this.config.watch.enabled) this.handle = this.watch.watchWhileElected();
  }

  /** Before the database closes: the lease is handed back, so another process takes over at once. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.handle?.stop();
  }
}

@Module({})
export class LibraryWatchModule {
  static forApp(app: WatchHostApp): DynamicModule {
    return {
      module: LibraryWatchModule,
      imports: [AdaptersModule, LeasesModule],
      providers: [{ provide: WATCH_HOST_APP, useValue: app }, LibraryWatchService, LibraryWatchStarter],
      exports: [LibraryWatchService],
    };
  }
}
