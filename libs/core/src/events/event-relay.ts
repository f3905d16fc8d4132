import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/app-config.js';
import { errorMessage } from '../errors/domain-error.js';
import { createRedis } from '../jobs/bullmq-connection.js';
import { JOBS_OPTIONS, type JobsOptions } from '../jobs/jobs-options.js';
import { EventBus } from './event-bus.js';
import { isProgressMessage, type ProgressEventMap, type ProgressEventName } from './progress-events.js';

export const eventsChannel = (prefix: string): string => `${prefix}:events`;

/**
 * Events that start outside a job (a user's delete on one API instance, a retention run, a CLI repair) for the
 * Socket.IO clients of every API instance. Embedded: straight onto the bus. Scale-out: published on the Redis channel
 * `<prefix>:events`, which every API instance (this one included) subscribes to and puts on its own bus, so each
 * client gets the event once whichever instance it is connected to. Job events keep their BullMQ path.
 */
@Injectable()
export class EventRelay implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(EventRelay.name);
  private readonly redis: { url: string; prefix: string } | null;
  private publisher?: Promise<Redis>;
  private subscriber?: Redis;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(JOBS_OPTIONS) private readonly options: JobsOptions,
    private readonly bus: EventBus,
  ) {
    this.redis = config.redis;
  }

  async onModuleInit(): Promise<void> {
    if (!this.redis || !this.options.forwardEvents) return;
    this.subscriber = await createRedis(this.redis.url);
    this.subscriber.on('error', (error: Error) => this.logger.warn(`Redis (events channel): ${error.message}`));
    this.subscriber.on('message', (_channel: string, text: string) => {
      try {
        const message: unknown = JSON.parse(text);
        if (isProgressMessage(message)) this.bus.publishMessage(message);
      } catch {
        this.logger.warn('Ignored a malformed event on the events channel');
      }
    });
    await this.subscriber.subscribe(eventsChannel(this.redis.prefix));
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([this.subscriber?.quit(), this.publisher?.then((p) => p.quit())]);
  }

  /** Resolves once the event is on its way to every instance (or, Redis failing, on this instance's bus). */
  async publish<E extends ProgressEventName>(event: E, payload: ProgressEventMap[E]): Promise<void> {
    if (!this.redis) {
      this.bus.publish(event, payload);
      return;
    }
    this.publisher ??= createRedis(this.redis.url);
    try {
      await (await this.publisher).publish(eventsChannel(this.redis.prefix), JSON.stringify({ event, payload }));
    } catch (error) {
      this.logger.warn(`${event} reaches this instance only: ${errorMessage(error)}`);
      this.bus.publish(event, payload);
    }
  }
}
