import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { DataSource, Repository } from 'typeorm';
import { openOneConnection } from './one-connection.js';

type QueuedJobs = import('../../libs/core/src/jobs/queued-job.repository.js').QueuedJobRepository;
type QueuedJob = import('../../libs/core/src/jobs/queued-job.entity.js').QueuedJobEntity;
type Generations = import('../../libs/generation/src/generation-job.repository.js').GenerationJobRepository;
type Generation = import('../../libs/generation/src/generation-job.entity.js').GenerationJobEntity;
type Leases = import('../../libs/generation/src/backend-lease.repository.js').BackendLeaseRepository;
type Lease = import('../../libs/generation/src/backend-lease.entity.js').BackendLeaseEntity;
type Results = import('../../libs/results/src/generation-result.repository.js').GenerationResultRepository;
type Result = import('../../libs/results/src/generation-result.entity.js').GenerationResultEntity;

/**
 * The statements every job runs (claim, status checks, transitions) are written out as SQL (RowSql) instead of built by
 * TypeORM per call. What they store must read back through TypeORM exactly as TypeORM's own statements stored it, and
 * the rows they read must equal TypeORM's reads. Run by one spec file a database: the entities' column types are fixed
 * by the configuration when they load (the file sets `DATABASE_URL` or `DATA_DIR` first).
 */
export function describeJobStatements(dialect: string): void {
  describe(`the job statements written out as SQL, on ${dialect}`, () => {
    let ds: DataSource;
    let queued: QueuedJobs;
    let queuedRepo: Repository<QueuedJob>;
    let generations: Generations;
    let generationRepo: Repository<Generation>;
    let leases: Leases;
    let leaseRepo: Repository<Lease>;
    let results: Results;
    let resultRepo: Repository<Result>;
    let ResultEntity: typeof import('../../libs/results/src/generation-result.entity.js').GenerationResultEntity;
    let JobStatus: typeof import('../../libs/core/src/jobs/job-name.js').JobStatus;
    let GenerationStatus: typeof import('../../libs/generation/src/generation-job.entity.js').GenerationStatus;

    beforeAll(async () => {
      const { buildDataSourceOptions, loadConfig, bindSqliteNumbers } = await import('@app/core');
      const { ENTITIES, MIGRATIONS } = await import('@app/migrations');
      const { DataSource } = await import('typeorm');
      const { QueuedJobRepository } = await import('../../libs/core/src/jobs/queued-job.repository.js');
      const { QueuedJobEntity } = await import('../../libs/core/src/jobs/queued-job.entity.js');
      ({ JobStatus } = await import('../../libs/core/src/jobs/job-name.js'));
      const { GenerationJobRepository } = await import('../../libs/generation/src/generation-job.repository.js');
      const generationEntity = await import('../../libs/generation/src/generation-job.entity.js');
      ({ GenerationStatus } = generationEntity);
      const { BackendLeaseRepository } = await import('../../libs/generation/src/backend-lease.repository.js');
      const { BackendLeaseEntity } = await import('../../libs/generation/src/backend-lease.entity.js');
      const { GenerationResultRepository } = await import('../../libs/results/src/generation-result.repository.js');
      ({ GenerationResultEntity: ResultEntity } = await import('../../libs/results/src/generation-result.entity.js'));
      ds = bindSqliteNumbers(
        new DataSource(buildDataSourceOptions(loadConfig(), { entities: ENTITIES, migrations: MIGRATIONS })),
      );
      await ds.initialize();
      await ds.runMigrations({ transaction: 'each' });
      queued = new QueuedJobRepository(ds);
      queuedRepo = ds.getRepository(QueuedJobEntity);
      generations = new GenerationJobRepository(ds);
      generationRepo = ds.getRepository(generationEntity.GenerationJobEntity);
      leases = new BackendLeaseRepository(ds);
      leaseRepo = ds.getRepository(BackendLeaseEntity);
      results = new GenerationResultRepository(ds);
      resultRepo = ds.getRepository(ResultEntity);
    });

    afterAll(async () => {
      await ds?.destroy();
    });

    beforeEach(async () => {
      await queuedRepo.clear();
    });

    const at = (iso: string) => new Date(iso);
    /** When the generation rows of these tests were created. */
    const created = at('2026-12-01T10:00:00.000Z');

    /** A generation row written by TypeORM (queued, created at `created`); returns its id. */
    async function addGeneration(fields: Partial<Generation> = {}): Promise<string> {
      const id = fields.id ?? randomUUID();
      await generationRepo.insert({
        id,
        status: GenerationStatus.Queued,
        request: {},
        createdAt: created,
        updatedAt: created,
        ...fields,
      });
      return id;
    }

    async function addJob(name: string, runAfter: string, fields: Partial<QueuedJob> = {}): Promise<QueuedJob> {
      const job = queuedRepo.create({
        id: randomUUID(),
        name,
        payload: { adapterId: 'a-1', nested: { list: [1, 'two', null] } },
        status: JobStatus.Queued,
        attempts: 0,
        maxAttempts: 3,
        runAfter: at(runAfter),
        progress: 0,
        result: null,
        error: null,
        createdAt: at('2026-12-01T10:00:00.000Z'),
        startedAt: null,
        finishedAt: null,
        ...fields,
      });
      await queued.insertIfAbsent(job);
      return job;
    }

    it('should claim the oldest due job of the name, once, and return it as TypeORM reads it', async () => {
      const later = await addJob('hash', '2026-12-01T10:00:02.000Z');
      const first = await addJob('hash', '2026-12-01T10:00:01.000Z', { attempts: 1 });
      await addJob('hash', '2026-12-01T11:00:00.000Z'); // not due yet
      await addJob('import', '2026-12-01T10:00:00.000Z'); // another name
      await addJob('hash', '2026-12-01T09:00:00.000Z', { status: JobStatus.Running }); // taken
      const now = at('2026-12-01T10:30:00.123Z');

      const claimed = await queued.claimNext('hash', now);
      expect(claimed?.id).toBe(first.id);
      expect(claimed).toEqual(await queuedRepo.findOneBy({ id: first.id }));
      expect(claimed).toMatchObject({ status: JobStatus.Running, attempts: 2, startedAt: now });
      expect(claimed?.payload).toEqual({ adapterId: 'a-1', nested: { list: [1, 'two', null] } });

      expect((await queued.claimNext('hash', now))?.id).toBe(later.id);
      expect(await queued.claimNext('hash', now)).toBeNull();
      expect((await queued.claimNext('hash', at('2026-12-01T11:00:00.000Z')))?.runAfter).toEqual(
        at('2026-12-01T11:00:00.000Z'),
      );
    });

    it('should name only the queues with a due job waiting', async () => {
      await addJob('hash', '2026-12-01T10:00:00.000Z');
      await addJob('hash', '2026-12-01T10:00:00.000Z');
      await addJob('import', '2026-12-01T12:00:00.000Z');
      await addJob('deliver', '2026-12-01T09:00:00.000Z', { status: JobStatus.Completed });
      expect(await queued.dueNames(at('2026-12-01T10:00:00.000Z'))).toEqual(new Set(['hash']));
      expect(await queued.dueNames(at('2026-12-01T12:00:00.000Z'))).toEqual(new Set(['hash', 'import']));
    });

    it('should store a finished job as TypeORM stores it: the result wrapped, progress 1 only when completed', async () => {
      const done = await addJob('hash', '2026-12-01T10:00:00.000Z', { progress: 0.5 });
      const failed = await addJob('hash', '2026-12-01T10:00:00.000Z', { progress: 0.5 });
      await queued.finish(done.id, JobStatus.Completed, { result: 42 });
      await queued.finish(failed.id, JobStatus.Failed, { error: 'the file is gone' });

      const doneRow = await queuedRepo.findOneByOrFail({ id: done.id });
      expect(doneRow).toMatchObject({ status: JobStatus.Completed, result: { value: 42 }, error: null, progress: 1 });
      expect(Math.abs(doneRow.finishedAt!.getTime() - Date.now())).toBeLessThan(10_000);
      expect(await queued.findById(done.id)).toEqual(doneRow);
      expect(await queuedRepo.findOneByOrFail({ id: failed.id })).toMatchObject({
        status: JobStatus.Failed,
        result: null,
        error: 'the file is gone',
        progress: 0.5,
      });
      expect(await queued.findById(randomUUID())).toBeNull();
    });

    it('should move a generation through its transitions as TypeORM reads them, the first outcome winning', async () => {
      const id = await addGeneration({
        request: { prompt: 'a cat <lora:ink:0.8>', steps: 20 },
        adaptersUsed: [{ id: 'a-1', name: 'ink', weight: 0.8 }],
      });
      expect(await generations.isCancelRequested(id)).toBe(false);

      const started = at('2026-12-01T10:00:05.250Z');
      expect(await generations.markRunning(id, 'local', 1, started)).toBe(true);
      expect(await generations.markRunning(id, 'local', 1, started)).toBe(false); // no longer queued
      const running = await generations.findById(id);
      expect(running).toEqual(await generationRepo.findOneBy({ id }));
      expect(running).toMatchObject({
        status: GenerationStatus.Running,
        backendId: 'local',
        attempts: 1,
        startedAt: started,
        requestSentAt: started,
        updatedAt: started,
        etaSeconds: null,
        request: { prompt: 'a cat <lora:ink:0.8>', steps: 20 },
      });

      const images = [{ index: 0, key: `generations/${id}/0.png`, contentType: 'image/png', size: 1234 }];
      // The row as it ended, read back by the finishing statement itself: the same as TypeORM reads it.
      const ended = await generations.finish(id, GenerationStatus.Succeeded, {
        images,
        info: { sampler: 'Euler' },
        seed: 4294967296,
      });
      expect(ended).toEqual(await generationRepo.findOneBy({ id }));
      expect(await generations.finish(id, GenerationStatus.Failed, { error: 'late' })).toBeNull();
      expect(await generations.findById(id)).toEqual(ended);
      expect(ended).toMatchObject({
        status: GenerationStatus.Succeeded,
        images,
        info: { sampler: 'Euler' },
        seed: 4294967296,
        progress: 1,
        etaSeconds: 0,
        error: null,
      });
      expect(ended?.finishedAt).toEqual(ended?.updatedAt);
    });

    it('should insert a job row with the declared defaults of the fields left out, as TypeORM reads it back', async () => {
      const id = randomUUID();
      const row = { id, request: { prompt: 'x' }, createdAt: created, updatedAt: created } as Generation;
      await generations.insert(row);
      const stored = await generationRepo.findOneByOrFail({ id });
      expect(stored).toMatchObject({
        status: GenerationStatus.Queued,
        progress: 0,
        attempts: 0,
        seed: null,
        images: null,
      });
      expect(row).toEqual({ ...stored });
      expect(await generations.findById(id)).toEqual(stored);
    });

    it('should leave a queued job as it was when the same id is enqueued again', async () => {
      const job = await addJob('hash', '2026-12-01T10:00:00.000Z');
      await addJob('hash', '2026-12-01T12:00:00.000Z', { id: job.id, payload: { other: true } });
      expect(await queuedRepo.findOneByOrFail({ id: job.id })).toMatchObject({
        runAfter: at('2026-12-01T10:00:00.000Z'),
        payload: job.payload,
      });
      expect(await queuedRepo.countBy({ name: 'hash' })).toBe(1);
    });

    it("should record a job's results in one transaction, leaving the images already recorded as they were", async () => {
      const jobId = await addGeneration({ status: GenerationStatus.Running });
      const result = (imageIndex: number, id: string = randomUUID()): Result =>
        Object.assign(new ResultEntity(), {
          id,
          jobId,
          imageIndex,
          storageKey: `generations/${jobId}/${imageIndex}.png`,
          format: 'png',
          contentType: 'image/png',
          width: 512,
          height: 768,
          bytes: 5_000_000_000,
          seed: 4294967296 + imageIndex,
          request: { prompt: 'a cat', steps: 20 },
          prompt: 'a cat',
          negativePrompt: null,
          loras: [{ adapterId: null, name: 'ink', weight: 0.8, sha256: null, autov2: null, baseModel: null }],
          model: 'sdxl',
          backendId: 'local',
          startedAt: created,
          finishedAt: at('2026-12-01T10:00:09.500Z'),
          durationMs: 9500,
          rating: 0,
          favorite: false,
          tags: [],
          notes: null,
          createdAt: created,
          updatedAt: created,
        });
      const first = await results.insertMany([result(0)]);
      const second = await results.insertMany([result(0), result(1)]);
      expect(second.map((r) => r.imageIndex)).toEqual([1]);
      const stored = await resultRepo.find({ where: { jobId }, order: { imageIndex: 'ASC' } });
      expect(stored).toEqual([...first, ...second]);

      // A failure part-way leaves nothing of the batch: every statement ran in its transaction.
      const third = result(2);
      await expect(results.insertMany([third, result(3, third.id)])).rejects.toThrow();
      expect(await resultRepo.countBy({ jobId })).toBe(2);
    });

    it('should not start a generation whose cancellation was asked for', async () => {
      const id = await addGeneration();
      expect(await generations.requestCancel(id)).toBe(true);
      expect(await generations.isCancelRequested(id)).toBe(true);
      expect(await generations.markRunning(id, 'local', 1, new Date())).toBe(false);
      expect((await generationRepo.findOneByOrFail({ id })).status).toBe(GenerationStatus.Queued);
    });

    it('should give a backend lease to one job at a time, and again once released or expired', async () => {
      await leases.ensure(['local']);
      const jobA = randomUUID();
      const jobB = randomUUID();
      expect(await leases.tryAcquire('local', jobA, 'host:1', 60_000)).toBe(true);
      expect(await leases.tryAcquire('local', jobB, 'host:2', 60_000)).toBe(false);
      const held = await leaseRepo.findOneByOrFail({ backendId: 'local' });
      expect(held).toMatchObject({ jobId: jobA, holder: 'host:1' });
      expect(held.expiresAt.getTime()).toBeGreaterThan(Date.now() + 50_000);

      await leases.release('local', jobB); // not the holder: nothing changes
      expect((await leaseRepo.findOneByOrFail({ backendId: 'local' })).jobId).toBe(jobA);
      await leases.release('local', jobA);
      expect(await leaseRepo.findOneByOrFail({ backendId: 'local' })).toMatchObject({
        jobId: null,
        holder: null,
        expiresAt: new Date(0),
      });
      expect(await leases.tryAcquire('local', jobB, 'host:2', -1)).toBe(true); // taken, already expired
      expect(await leases.tryAcquire('local', jobA, 'host:1', 60_000)).toBe(true);
    });

    // PostgreSQL: the statements are prepared by name on each connection, so the server parses them once and plans
    // them only its first five times; and a column added while the process runs (a rolling upgrade's migration) must
    // not stop them, as it would stop a prepared `SELECT *` ("cached plan must not change result type").
    if (dialect === 'postgres') {
      it('should run its statements prepared, and on through a column added meanwhile (PostgreSQL)', async () => {
        const { GenerationJobRepository } = await import('../../libs/generation/src/generation-job.repository.js');
        // One connection: the statements it lists as prepared are those this test ran.
        const single = await openOneConnection(ds.options);
        try {
          const mine = new GenerationJobRepository(single.dataSource);
          const id = await addGeneration();
          for (let i = 0; i < 8; i++) expect((await mine.findById(id))?.id).toBe(id);
          expect(await single.plans('SELECT %FROM "generation_jobs" WHERE "id" = $1')).toEqual([
            { generic: 3, custom: 5 },
          ]);
          await single.rows('ALTER TABLE generation_jobs ADD COLUMN rolling_upgrade_probe integer');
          expect(await mine.findById(id)).toMatchObject({ id, status: GenerationStatus.Queued });
          expect(await mine.markRunning(id, 'local', 1, new Date())).toBe(true);
        } finally {
          await single.rows('ALTER TABLE generation_jobs DROP COLUMN IF EXISTS rolling_upgrade_probe');
          await single.dataSource.destroy();
        }
      });
    }
  });
}
