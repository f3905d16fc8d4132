import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import {
  ApiExposure,
  apiExposure,
  ConfigError,
  databaseLocation,
  DatabaseType,
  ignoreGlobProblem,
  isLoopbackAddress,
  openNetworkRefusal,
  parseConfig,
  Role,
  secretsOf,
  storageLocation,
} from './app-config.js';

const REPO = resolve(import.meta.dirname, '..', '..', '..', '..');

describe('parseConfig', () => {
  it('should give embedded defaults when nothing is set', () => {
    const config = parseConfig({});
    expect(config.port).toBe(3000);
    expect(config.host).toBe('127.0.0.1');
    expect(config.loopbackOnly).toBe(true);
    expect(config.database.type).toBe(DatabaseType.Sqlite);
    expect(config.redis).toBeNull();
    expect(config.apiKeys).toEqual([]);
  });

  it('should select scale-out mode from DATABASE_URL and REDIS_URL', () => {
    const config = parseConfig({
      DATABASE_URL: 'postgres://u@h:5432/db',
      REDIS_URL: 'redis://h:6379',
      REDIS_PREFIX: 'p1',
    });
    expect(config.database).toEqual({ type: DatabaseType.Postgres, url: 'postgres://u@h:5432/db', schema: undefined });
    expect(config.redis).toEqual({ url: 'redis://h:6379', prefix: 'p1' });
  });

  it('should default the job reconciler to 60 s grace and a 30 s interval, and refuse a non-positive grace', () => {
    expect(parseConfig({}).jobs).toEqual({ requeueAfterMs: 60_000, reconcileIntervalMs: 30_000 });
    expect(parseConfig({ JOB_REQUEUE_AFTER_SECONDS: '1.5', JOB_RECONCILE_INTERVAL_SECONDS: '0.5' }).jobs).toEqual({
      requeueAfterMs: 1500,
      reconcileIntervalMs: 500,
    });
    expect(() => parseConfig({ JOB_REQUEUE_AFTER_SECONDS: '0' })).toThrow(/JOB_REQUEUE_AFTER_SECONDS/);
  });

  it('should keep every result by default and read the retention policy in days, MB and hours', () => {
    expect(parseConfig({}).resultsRetention).toEqual({
      maxAgeMs: null,
      maxTotalBytes: null,
      keepRating: 1,
      intervalMs: 86_400_000,
      orphanGraceMs: 86_400_000,
    });
    const config = parseConfig({
      RESULTS_MAX_AGE_DAYS: '30',
      RESULTS_MAX_TOTAL_MB: '512',
      RESULTS_KEEP_RATING: '4',
      RESULTS_RETENTION_HOURS: '0',
      RESULTS_ORPHAN_GRACE_HOURS: '0.5',
    });
    expect(config.resultsRetention).toEqual({
      maxAgeMs: 30 * 86_400_000,
      maxTotalBytes: 512 * 1024 * 1024,
      keepRating: 4,
      intervalMs: null,
      orphanGraceMs: 1_800_000,
    });
    expect(() => parseConfig({ RESULTS_KEEP_RATING: '0', RESULTS_MAX_AGE_DAYS: '-1' })).toThrow(
      /RESULTS_MAX_AGE_DAYS: .*RESULTS_KEEP_RATING|RESULTS_KEEP_RATING: .*RESULTS_MAX_AGE_DAYS/,
    );
  });

  it('should leave the watcher and the start-up import off by default, and read their timings in seconds', () => {
    expect(parseConfig({})).toMatchObject({
      watch: { enabled: false, pollMs: null, debounceMs: 2000, settleMs: 2000 },
      importOnStart: false,
    });
    const config = parseConfig({
      LORA_WATCH: 'true',
      LORA_WATCH_POLL_SECONDS: '30',
      LORA_WATCH_DEBOUNCE_SECONDS: '0.5',
      LORA_WATCH_SETTLE_SECONDS: '1.5',
      IMPORT_ON_START: '1',
    });
    expect(config).toMatchObject({
      watch: { enabled: true, pollMs: 30_000, debounceMs: 500, settleMs: 1500 },
      importOnStart: true,
    });
    expect(() =>
      parseConfig({ LORA_WATCH: 'yes', LORA_WATCH_POLL_SECONDS: '-1', LORA_WATCH_SETTLE_SECONDS: '0' }),
    ).toThrow(/LORA_WATCH: .*LORA_WATCH_POLL_SECONDS: .*LORA_WATCH_SETTLE_SECONDS/);
  });

  it('should parse API keys with roles and listen on all interfaces once keys exist', () => {
    const config = parseConfig({ API_KEYS: 'aaaaaaaaaaaaaaaa1:viewer, bbbbbbbbbbbbbbbb2:admin' });
    expect(config.apiKeys).toEqual([
      { key: 'aaaaaaaaaaaaaaaa1', role: Role.Viewer },
      { key: 'bbbbbbbbbbbbbbbb2', role: Role.Admin },
    ]);
    expect(config.host).toBe('0.0.0.0');
    expect(config.loopbackOnly).toBe(false);
  });

  it('should name every bad variable in one error', () => {
    let error: unknown;
    try {
      parseConfig({ PORT: 'eighty', API_KEYS: 'short:root', SDNEXT_URL: 'ftp://x', LOG_LEVEL: 'loud' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const variables = (error as ConfigError).problems.map((p) => p.variable).sort();
    expect(variables).toEqual(['API_KEYS', 'LOG_LEVEL', 'PORT', 'SDNEXT_URL']);
    expect((error as ConfigError).message).toContain('PORT');
  });

  it('should split LORA_IGNORE at commas outside braces, and refuse absolute globs and `..`', () => {
    expect(parseConfig({}).loraIgnore).toEqual([]);
    expect(parseConfig({ LORA_IGNORE: ' **/.trash/**, **/{old,tmp}/**,archive/*.safetensors ' }).loraIgnore).toEqual([
      '**/.trash/**',
      '**/{old,tmp}/**',
      'archive/*.safetensors',
    ]);
    for (const bad of ['/data/loras/old/**', '../other/**', 'C:\\loras\\old']) {
      expect(() => parseConfig({ LORA_IGNORE: bad })).toThrow(/LORA_IGNORE/);
    }
  });

  it('should refuse ignore globs whose wildcards backtrack, naming the glob and the segment', () => {
    // `*a*a*a*a*a*b` took 67 s to reject one 100-character name; `*(a*)b` 7 s on 25 characters.
    for (const [glob, why] of [
      [
        '*a*a*a*a*a*b',
        /"\*a\*a\*a\*a\*a\*b" must have at most 2 wildcards \(\*\) in one path segment \("\*a\*a\*a\*a\*a\*b" has 6\)/,
      ],
      ['old/*a*a*b/**', /at most 2 wildcards \(\*\) in one path segment \("\*a\*a\*b" has 3\)/],
      ['*a*/*a*/*a*', /"\*a\*\/\*a\*\/\*a\*" must have at most 3 wildcards \(\* or \*\*\) in all \(it has 6\)/],
      ['**/a/**/b/**/c/**', /at most 3 wildcards .* \(it has 4\)/],
      ['*(a*)b', /must not use the repeating extglobs/],
      ['x/+(a|aa)', /must not use the repeating extglobs/],
    ] as const) {
      expect(() => parseConfig({ LORA_IGNORE: `ok/**,${glob}` })).toThrow(why);
    }
    for (const glob of ['**/.trash/**', '**/*.bak.*', '*preview*', 'old/**/*.safetensors', String.raw`a\*\*\*b*`]) {
      expect(ignoreGlobProblem(glob)).toBeNull();
    }
  });

  it('should give each SD.Next URL a stable backend id and split SDNEXT_AUTH at the first colon', () => {
    const config = parseConfig({ SDNEXT_URL: 'http://a:7860/, http://b:7860', SDNEXT_AUTH: 'user:pa:ss' });
    expect(config.sdnext.backends).toEqual([
      { id: 'sdnext-0', url: 'http://a:7860' },
      { id: 'sdnext-1', url: 'http://b:7860' },
    ]);
    expect(config.sdnext.auth).toEqual({ user: 'user', password: 'pa:ss' });
  });
});

describe('parseConfig: sessions, proxies and Socket.IO limits', () => {
  it('should default to a per-process session secret, 12-hour sessions, no trusted proxy and 100/20 socket limits', () => {
    const config = parseConfig({});
    expect(config.session).toEqual({ secret: null, ttlMs: 12 * 3_600_000 });
    expect(config.trustProxy).toBe(false);
    expect(config.socket).toEqual({ maxJobSubscriptions: 100, maxConnectionsPerKey: 20 });
  });

  it('should read them, and redact the session secret like a key', () => {
    const secret = 'x'.repeat(32);
    const config = parseConfig({
      SESSION_SECRET: secret,
      SESSION_TTL_HOURS: '0.5',
      TRUST_PROXY: 'loopback, 10.0.0.0/8',
      SOCKET_MAX_JOB_SUBSCRIPTIONS: '5',
      SOCKET_MAX_CONNECTIONS_PER_KEY: '2',
    });
    expect(config.session).toEqual({ secret, ttlMs: 1_800_000 });
    expect(config.trustProxy).toEqual(['loopback', '10.0.0.0/8']);
    expect(config.socket).toEqual({ maxJobSubscriptions: 5, maxConnectionsPerKey: 2 });
    expect(secretsOf(config)).toContain(secret);
    expect(parseConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(parseConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
  });

  it('should refuse a short secret, a zero lifetime, an unknown proxy value and zero limits, naming each', () => {
    expect(() =>
      parseConfig({
        SESSION_SECRET: 'short',
        SESSION_TTL_HOURS: '0',
        TRUST_PROXY: 'everyone',
        SOCKET_MAX_JOB_SUBSCRIPTIONS: '0',
      }),
    ).toThrow(/SESSION_SECRET.*SESSION_TTL_HOURS.*TRUST_PROXY.*SOCKET_MAX_JOB_SUBSCRIPTIONS/);
  });
});

describe('parseConfig: data directory and network exposure', () => {
  it('should put the default data directory in the installation, whatever the current directory', () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'lm-cwd-'));
    const cwd = process.cwd();
    try {
      process.chdir(elsewhere);
      const config = parseConfig({});
      expect(config.dataDir).toBe(join(REPO, 'data'));
      expect(config.database).toEqual({ type: DatabaseType.Sqlite, path: join(REPO, 'data', 'lora-manager.sqlite') });
      // A DATA_DIR given relative is the operator's own choice: relative to where they run it, shown absolute.
      expect(parseConfig({ DATA_DIR: 'here' }).dataDir).toBe(join(process.cwd(), 'here'));
    } finally {
      process.chdir(cwd);
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('should refuse an open API on a network interface unless ALLOW_OPEN_NETWORK says it is intended', () => {
    const keys = 'aaaaaaaaaaaaaaaa1:admin';
    expect(apiExposure(parseConfig({}))).toBe(ApiExposure.OpenLoopback);
    expect(apiExposure(parseConfig({ HOST: '::1' }))).toBe(ApiExposure.OpenLoopback);
    expect(apiExposure(parseConfig({ HOST: '0.0.0.0', API_KEYS: keys }))).toBe(ApiExposure.Keys);
    expect(apiExposure(parseConfig({ HOST: '0.0.0.0', ALLOW_OPEN_NETWORK: 'true' }))).toBe(ApiExposure.OpenNetwork);
    for (const host of ['0.0.0.0', '::', '192.168.1.20', 'myhost.lan']) {
      const refusal = openNetworkRefusal(parseConfig({ HOST: host }));
      expect(refusal).toBeInstanceOf(ConfigError);
      expect(refusal?.message).toContain(`HOST: ${host} is reachable from the network but no API_KEYS are set`);
      expect(refusal?.message).toContain('ALLOW_OPEN_NETWORK=true');
    }
    expect(openNetworkRefusal(parseConfig({ HOST: '0.0.0.0', ALLOW_OPEN_NETWORK: 'false' }))).toBeInstanceOf(
      ConfigError,
    );
    expect(() => parseConfig({ ALLOW_OPEN_NETWORK: 'yes please' })).toThrow(/ALLOW_OPEN_NETWORK/);
  });

  it('should tell loopback addresses from the rest', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1'])
      expect({ host, loopback: isLoopbackAddress(host) }).toEqual({ host, loopback: true });
    for (const host of ['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', 'example.org'])
      expect({ host, loopback: isLoopbackAddress(host) }).toEqual({ host, loopback: false });
  });

  it('should describe where the data lives without the database password', () => {
    expect(databaseLocation(parseConfig({ DATA_DIR: '/srv/lora' }))).toBe('/srv/lora/lora-manager.sqlite');
    expect(
      databaseLocation(parseConfig({ DATABASE_URL: 'postgres://lora:s3cret@db:5432/lora', DATABASE_SCHEMA: 'tenant' })),
    ).toBe('postgres://lora@db:5432/lora (schema tenant)');
  });

  it('should read STORAGE_URL as a bucket and prefix, and redact the S3 secret', () => {
    const config = parseConfig({
      STORAGE_URL: 's3://lora-bucket/prod/images/',
      S3_ENDPOINT: 'http://minio:9000/',
      S3_FORCE_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI-secret',
    });
    expect(config.storage).toMatchObject({
      kind: 's3',
      bucket: 'lora-bucket',
      prefix: 'prod/images',
      endpoint: 'http://minio:9000',
      region: 'us-east-1',
      forcePathStyle: true,
    });
    expect(secretsOf(config)).toContain('wJalrXUtnFEMI-secret');
    expect(storageLocation(config)).toBe('s3://lora-bucket/prod/images at http://minio:9000');
    expect(parseConfig({}).storage.kind).toBe('local');
    expect(() => parseConfig({ STORAGE_URL: 'https://bucket' })).toThrow('STORAGE_URL');
    expect(() => parseConfig({ STORAGE_URL: 's3://bucket/x', AWS_ACCESS_KEY_ID: 'only-the-id' })).toThrow(
      'AWS_SECRET_ACCESS_KEY',
    );
  });
});
