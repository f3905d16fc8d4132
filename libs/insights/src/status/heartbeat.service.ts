import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { errorMessage, productVersion } from '@app/core';
import { DataSource } from 'typeorm';
import { ProcessHeartbeatEntity, ProcessKind } from './process-heartbeat.entity.js';

export const HEARTBEAT_KIND = Symbol('HEARTBEAT_KIND');

/** How often a process renews its row; the status calls a process alive for three intervals. */
export const HEARTBEAT_INTERVAL_MS = 5_000;
export const HEARTBEAT_ALIVE_MS = 3 * HEARTBEAT_INTERVAL_MS;
/** Rows of processes silent this long are removed (a crash leaves its row behind). */
const FORGET_AFTER_MS = 24 * 60 * 60 * 1000;

/** Keeps this process's `process_heartbeats` row fresh, so the system status can count the live processes. */
@Injectable()
export class HeartbeatService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(HeartbeatService.name);
  private readonly id: string;
  private readonly startedAt = new Date();
  private timer: NodeJS.Timeout | undefined;
  private failing = false;

  constructor(
    @Inject(HEARTBEAT_KIND) private readonly kind: ProcessKind,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {
    this.id = `${kind}/${hostname().slice(0, 120)}/${process.pid}/${randomBytes(4).toString('hex')}`;
  }

  private get repo() {
    return this.dataSource.getRepository(ProcessHeartbeatEntity);
  }

  async onModuleInit(): Promise<void> {
    await this.beat();
    await this.repo
      .createQueryBuilder()
      .delete()
      .where('beat_at < :before', { before: new Date(Date.now() - FORGET_AFTER_MS) })
      .execute()
      .catch(() => undefined);
    this.timer = setInterval(() => void this.beat(), HEARTBEAT_INTERVAL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.repo.delete({ id: this.id }).catch(() => undefined);
  }

  private async beat(): Promise<void> {
    try {
      await this.repo.upsert(
        {
          id: this.id,
          kind: this.kind,
          host: hostname().slice(0, 255),
          pid: process.pid,
          version: productVersion(),
          startedAt: this.startedAt,
          beatAt: new Date(),
        },
        ['id'],
      );
      this.failing = false;
    } catch (error) {
      // A database outage shows in the status as this process going silent; say it once, not every 5 s.
      if (!this.failing) this.logger.warn(`Heartbeat not written: ${errorMessage(error)}`);
      this.failing = true;
    }
  }
}
