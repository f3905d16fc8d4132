import {
  type BeforeApplicationShutdown,
  type DynamicModule,
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import {
  APP_CONFIG,
  type AppConfig,
  errorMessage,
  LeasesModule,
  ProcessLeaseName,
  ProcessLeaseService,
} from '@app/core';
import { AdaptersModule } from '../adapters.module.js';
import { WatchHostApp } from '../watching/library-watch.module.js';
import { CivitaiRunKind, CivitaiRunTrigger } from './civitai-runs.entity.js';
import { CivitaiRunService } from './civitai-runs.service.js';

const SCHEDULE_HOST_APP = Symbol('CIVITAI_SCHEDULE_HOST_APP');

/**
 * `CIVITAI_UPDATE_CHECK_HOURS`: starts an update check of every linked adapter once per period, in the app that runs
 * jobs (the API embedded, the workers scaled out). Every such process asks, and the one that takes the period's lease
 * (`claimOnce`, not renewed: it lapses when the period ends) starts the run; the others do nothing.
 */
@Injectable()
export class CivitaiUpdateScheduler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(CivitaiUpdateScheduler.name);
  private timer: NodeJS.Timeout | null = null;
  private turn: Promise<void> = Promise.resolve();

  constructor(
    private readonly runs: CivitaiRunService,
    private readonly leases: ProcessLeaseService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(SCHEDULE_HOST_APP) private readonly app: WatchHostApp,
  ) {}

  onApplicationBootstrap(): void {
    const periodMs = this.config.civitai.updateCheckMs;
    const hosts = this.app === (this.config.redis ? WatchHostApp.Worker : WatchHostApp.Api);
    if (!hosts || periodMs === null) return;
    const tick = () => {
      this.turn = this.turn.then(() => this.tick(periodMs));
    };
    tick();
    this.timer = setInterval(tick, Math.min(60_000, Math.max(1000, Math.floor(periodMs / 4))));
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.turn;
  }

  private async tick(periodMs: number): Promise<void> {
    try {
      if (!(await this.leases.claimOnce(ProcessLeaseName.CivitaiUpdateCheck, periodMs))) return;
      const { run, created } = await this.runs.start(CivitaiRunKind.UpdateCheck, {}, CivitaiRunTrigger.Schedule);
      this.logger.log(
        created ? `Scheduled update check ${run.id} queued` : `Update check skipped: run ${run.id} active`,
      );
    } catch (error) {
      this.logger.warn(`Scheduled update check not started: ${errorMessage(error)}`);
    }
  }
}

@Module({})
export class CivitaiScheduleModule {
  static forApp(app: WatchHostApp): DynamicModule {
    return {
      module: CivitaiScheduleModule,
      imports: [AdaptersModule, LeasesModule],
      providers: [{ provide: SCHEDULE_HOST_APP, useValue: app }, CivitaiUpdateScheduler],
    };
  }
}
