import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { tempDir } from '../../../test/support/test-services.js';

// The column dialect is read from the config when entity modules load: set the environment first.
const dir = tempDir('lease');
process.env.DATABASE_URL = `sqlite:${join(dir.path, 'lease.sqlite')}`;
delete process.env.REDIS_URL;
const { DataSource } = await import('typeorm');
const { parseConfig } = await import('@app/core');
const { BackendLeaseEntity } = await import('./backend-lease.entity.js');
const { BackendLeaseRepository } = await import('./backend-lease.repository.js');
const { BackendLeaseService, LeaseWaitAbortedError } = await import('./backend-lease.service.js');
const { SdNextBackends } = await import('./sdnext-backends.js');

describe(BackendLeaseService.name, () => {
  const dataSource = new DataSource({
    type: 'better-sqlite3',
    database: join(dir.path, 'lease.sqlite'),
    entities: [BackendLeaseEntity],
    synchronize: true,
  });
  const config = parseConfig({ SDNEXT_URL: 'http://127.0.0.1:1,http://127.0.0.1:2', DATA_DIR: dir.path });
  let repository: InstanceType<typeof BackendLeaseRepository>;
  /** Two services on one database stand for two processes. */
  let processes: InstanceType<typeof BackendLeaseService>[];
  let backends: InstanceType<typeof SdNextBackends>;

  beforeAll(async () => {
    await dataSource.initialize();
    repository = new BackendLeaseRepository(dataSource);
    backends = new SdNextBackends(config);
    processes = [new BackendLeaseService(repository, backends), new BackendLeaseService(repository, backends)];
  });

  afterAll(async () => {
    await dataSource.destroy();
    dir.remove();
  });

  it('should let one holder at a time use a backend across processes, and serve every waiter', async () => {
    let holding = 0;
    let most = 0;
    const order: string[] = [];
    await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const service = processes[i % 2];
        const lease = await service.acquire(`00000000-0000-4000-8000-0000000000${String(i).padStart(2, '0')}`, {
          candidates: ['sdnext-0'],
        });
        holding++;
        most = Math.max(most, holding);
        await new Promise((r) => setTimeout(r, 5));
        order.push(lease.backendId);
        holding--;
        await lease.release();
      }),
    );
    expect(most).toBe(1);
    expect(order).toHaveLength(12);
  });

  it('should give two jobs two idle backends at once', async () => {
    const first = await processes[0].acquire('00000000-0000-4000-8000-000000000101');
    const second = await processes[1].acquire('00000000-0000-4000-8000-000000000102');
    expect([first.backendId, second.backendId].sort()).toEqual(['sdnext-0', 'sdnext-1']);
    expect(await processes[0].held()).toEqual(
      new Map([
        [
          'sdnext-0',
          first.backendId === 'sdnext-0'
            ? '00000000-0000-4000-8000-000000000101'
            : '00000000-0000-4000-8000-000000000102',
        ],
        [
          'sdnext-1',
          first.backendId === 'sdnext-1'
            ? '00000000-0000-4000-8000-000000000101'
            : '00000000-0000-4000-8000-000000000102',
        ],
      ]),
    );
    await Promise.all([first.release(), second.release()]);
  });

  it('should give a released backend to the jobs of one process in the order they began to wait', async () => {
    const service = processes[0];
    const first = await service.acquire('00000000-0000-4000-8000-000000000501', { candidates: ['sdnext-0'] });
    const order: number[] = [];
    const waiting: Promise<void>[] = [];
    for (let i = 0; i < 6; i++) {
      const id = `00000000-0000-4000-8000-0000000005${String(10 + i)}`;
      waiting.push(
        service.acquire(id, { candidates: ['sdnext-0'] }).then(async (lease) => {
          order.push(i);
          await lease.release();
        }),
      );
      await new Promise((r) => setTimeout(r, 15)); // each has tried once and joined the line
    }
    await first.release();
    await Promise.all(waiting);
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('should stop waiting when the job is cancelled by signal or by its row', async () => {
    const held = await processes[0].acquire('00000000-0000-4000-8000-000000000201', { candidates: ['sdnext-0'] });
    const controller = new AbortController();
    const bySignal = processes[1].acquire('00000000-0000-4000-8000-000000000202', {
      candidates: ['sdnext-0'],
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 30);
    await expect(bySignal).rejects.toBeInstanceOf(LeaseWaitAbortedError);
    const byRow = processes[1].acquire('00000000-0000-4000-8000-000000000203', {
      candidates: ['sdnext-0'],
      isCancelled: () => Promise.resolve(true),
    });
    await expect(byRow).rejects.toBeInstanceOf(LeaseWaitAbortedError);
    await held.release();
  });

  it('should take over the expired lease of a crashed holder', async () => {
    // A holder that stopped renewing: its lease ran out a second ago.
    expect(await repository.tryAcquire('sdnext-0', '00000000-0000-4000-8000-000000000301', 'dead/1/x', -1000)).toBe(
      true,
    );
    const lease = await processes[0].acquire('00000000-0000-4000-8000-000000000302', { candidates: ['sdnext-0'] });
    expect(lease.backendId).toBe('sdnext-0');
    await lease.release();
  });

  it('should pass over a backend seen down while another is free, but use it when it is the only one', async () => {
    backends.markDown('sdnext-0');
    const lease = await processes[0].acquire('00000000-0000-4000-8000-000000000401');
    expect(lease.backendId).toBe('sdnext-1');
    await lease.release();
    const pinned = await processes[0].acquire('00000000-0000-4000-8000-000000000402', { candidates: ['sdnext-0'] });
    expect(pinned.backendId).toBe('sdnext-0');
    await pinned.release();
    backends.markUp('sdnext-0');
  });
});
