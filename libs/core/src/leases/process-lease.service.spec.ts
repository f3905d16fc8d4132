import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { tempDir } from '../../../../test/support/test-services.js';

// The column dialect is read from the config when entity modules load: set the environment first.
const dir = tempDir('process-lease');
process.env.DATABASE_URL = `sqlite:${join(dir.path, 'lease.sqlite')}`;
delete process.env.REDIS_URL;
const { DataSource } = await import('typeorm');
const { ProcessLeaseEntity } = await import('./process-lease.entity.js');
const { ProcessLeaseRepository } = await import('./process-lease.repository.js');
const { ProcessLeaseName, ProcessLeaseService } = await import('./process-lease.service.js');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

describe(ProcessLeaseService.name, () => {
  const dataSource = new DataSource({
    type: 'better-sqlite3',
    database: join(dir.path, 'lease.sqlite'),
    entities: [ProcessLeaseEntity],
    synchronize: true,
  });
  /** Two services on one database stand for two processes. */
  let first: InstanceType<typeof ProcessLeaseService>;
  let second: InstanceType<typeof ProcessLeaseService>;

  beforeAll(async () => {
    await dataSource.initialize();
    const repository = new ProcessLeaseRepository(dataSource);
    first = new ProcessLeaseService(repository);
    second = new ProcessLeaseService(repository);
  });

  afterAll(async () => {
    await dataSource.destroy();
    dir.remove();
  });

  it('should elect one process, and hand over at once when it stops', async () => {
    const elected: string[] = [];
    const bid = (service: typeof first, name: string) =>
      service.campaign(ProcessLeaseName.LibraryWatch, {
        ttlMs: 500,
        onElected: () => void elected.push(name),
        onDeposed: () => undefined,
      });
    const a = bid(first, 'a');
    await until(() => elected.length === 1);
    const b = bid(second, 'b');
    await sleep(400);
    expect(elected).toEqual(['a']);
    expect(await second.holderOf(ProcessLeaseName.LibraryWatch)).toBe(first.holder);
    await a.stop();
    await until(() => elected.length === 2, 1000);
    expect(elected).toEqual(['a', 'b']);
    await b.stop();
  });

  it('should let another process take over once a dead holder stops renewing', async () => {
    const repository = new ProcessLeaseRepository(dataSource);
    // A holder that died: its lease runs out in 300 ms and is never renewed.
    expect(await repository.tryAcquire(ProcessLeaseName.LibraryWatch, 'dead/1/x', 300)).toBe(true);
    let electedAt = 0;
    const started = Date.now();
    const campaign = second.campaign(ProcessLeaseName.LibraryWatch, {
      ttlMs: 500,
      onElected: () => void (electedAt = Date.now()),
      onDeposed: () => undefined,
    });
    await until(() => electedAt > 0);
    expect(electedAt - started).toBeGreaterThanOrEqual(250);
    await campaign.stop();
  });

  it('should step down when another process has taken the lease over', async () => {
    let deposed = false;
    const campaign = first.campaign(ProcessLeaseName.LibraryWatch, {
      ttlMs: 500,
      onElected: () => undefined,
      onDeposed: () => void (deposed = true),
    });
    await until(() => campaign.holding);
    // Its lease expired while it stalled, and another process took it.
    await dataSource.query(`UPDATE process_leases SET holder = 'other/2/y', expires_at = ? WHERE name = ?`, [
      new Date(Date.now() + 60_000).toISOString(),
      ProcessLeaseName.LibraryWatch,
    ]);
    await until(() => deposed);
    expect(campaign.holding).toBe(false);
    await campaign.stop();
  });

  it('should take a once-per-window lease only once', async () => {
    expect(await first.claimOnce(ProcessLeaseName.ImportOnStart, 60_000)).toBe(true);
    expect(await second.claimOnce(ProcessLeaseName.ImportOnStart, 60_000)).toBe(false);
  });
});
