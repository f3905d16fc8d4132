import { describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { DiagnosticJobHandler } from './diagnostic.handler.js';
import { type JobHandler, JobHandlerFor } from './job-handler.js';
import { JobHandlerRegistry } from './job-handler.registry.js';
import { ALL_JOB_NAMES, JobName } from './job-name.js';

@Injectable()
@JobHandlerFor(JobName.Diagnostic)
class SecondDiagnosticHandler implements JobHandler<JobName.Diagnostic> {
  handle(): Promise<void> {
    return Promise.resolve();
  }
}

async function registryWith(providers: (new (...args: never[]) => unknown)[]): Promise<JobHandlerRegistry> {
  const moduleRef = await Test.createTestingModule({
    imports: [DiscoveryModule],
    providers: [JobHandlerRegistry, ...providers],
  }).compile();
  return moduleRef.get(JobHandlerRegistry);
}

/** Test-only handlers for every other job name: the registry counts handlers, it never runs them here. */
const otherHandlers = ALL_JOB_NAMES.filter((name) => name !== JobName.Diagnostic).map((name) => {
  @Injectable()
  @JobHandlerFor(name)
  class CountedHandler implements JobHandler {
    handle(): Promise<void> {
      return Promise.resolve();
    }
  }
  return CountedHandler;
});

describe(JobHandlerRegistry.name, () => {
  it('should accept exactly one handler per job name', async () => {
    const registry = await registryWith([DiagnosticJobHandler, ...otherHandlers]);
    expect(() => registry.assertComplete()).not.toThrow();
    expect(registry.get(JobName.Diagnostic)).toBeInstanceOf(DiagnosticJobHandler);
  });

  it('should refuse to start when a job name has no handler', async () => {
    const registry = await registryWith([DiagnosticJobHandler]);
    const missing = ALL_JOB_NAMES.filter((n) => n !== JobName.Diagnostic);
    expect(missing.length).toBeGreaterThan(0);
    for (const name of missing) expect(() => registry.assertComplete()).toThrow(`job "${name}" has no handler`);
  });

  it('should refuse to start when a job name has two handlers', async () => {
    const registry = await registryWith([DiagnosticJobHandler, SecondDiagnosticHandler, ...otherHandlers]);
    expect(() => registry.assertComplete()).toThrow('job "diagnostic" has 2 handlers');
  });
});
