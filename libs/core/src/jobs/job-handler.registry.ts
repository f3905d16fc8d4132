import { Injectable } from '@nestjs/common';
import { DiscoveryService, Reflector } from '@nestjs/core';
import { ALL_JOB_NAMES, type JobName } from './job-name.js';
import { JOB_HANDLER_METADATA, type JobHandler } from './job-handler.js';

/**
 * Finds every `@JobHandlerFor` provider. A process that runs jobs calls `assertComplete()` before it starts
 * and refuses to run when a job name has no handler or two.
 */
@Injectable()
export class JobHandlerRegistry {
  private handlers?: Map<JobName, JobHandler[]>;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly reflector: Reflector,
  ) {}

  private collect(): Map<JobName, JobHandler[]> {
    if (this.handlers) return this.handlers;
    const found = new Map<JobName, JobHandler[]>();
    for (const wrapper of this.discovery.getProviders()) {
      const metatype: unknown = wrapper.metatype;
      const instance: unknown = wrapper.instance;
      if (!metatype || !instance || typeof metatype !== 'function') continue;
      const name = this.reflector.get<JobName | undefined>(JOB_HANDLER_METADATA, metatype as new () => unknown);
      if (!name) continue;
      const list = found.get(name) ?? [];
      if (!list.includes(instance as JobHandler)) list.push(instance as JobHandler);
      found.set(name, list);
    }
    this.handlers = found;
    return found;
  }

  /** Every job name has exactly one handler, or this throws naming each problem. */
  assertComplete(): void {
    const found = this.collect();
    const problems: string[] = [];
    for (const name of ALL_JOB_NAMES) {
      const count = found.get(name)?.length ?? 0;
      if (count === 0) problems.push(`job "${name}" has no handler`);
      if (count > 1) problems.push(`job "${name}" has ${count} handlers`);
    }
    if (problems.length > 0) throw new Error(`Job handler registry is incomplete: ${problems.join('; ')}`);
  }

  get(name: JobName): JobHandler {
    const handler = this.collect().get(name)?.[0];
    if (!handler) throw new Error(`No handler for job "${name}"`);
    return handler;
  }
}
