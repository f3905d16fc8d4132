// A fake Civitai for tests, written from the public API reference (developer.civitai.com; LORA-FORMATS §8): the
// by-hash, model-version, model, model search (cursor paging) and images endpoints, and the download endpoint that
// redirects to a file host serving Range requests. Answers are built with the corpus builder's Civitai shapes. Faults
// can be switched on per endpoint: 404, 429 storms with Retry-After, 5xx bursts, a request that is never answered,
// malformed JSON, an oversized answer.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type CivitaiModelSpec,
  type CivitaiVersionSpec,
  civitaiModelJson,
  civitaiVersionJson,
} from './corpus-builder.js';

export type FakeEndpoint = 'by_hash' | 'version' | 'model' | 'models' | 'images' | 'download';

export type Fault =
  | { kind: 'status'; status: number; times?: number }
  | { kind: 'rate_limit'; retryAfter: string | null; times?: number }
  | { kind: 'hang'; times?: number }
  | { kind: 'malformed'; times?: number }
  | { kind: 'oversized'; bytes: number; times?: number };

/** Faults of the file host (downloads), switchable like endpoint faults. */
export type FileFault =
  /** Sends the headers and the first `afterBytes` bytes of the answer, then drops the connection. */
  | { kind: 'cut'; afterBytes: number; times?: number }
  /** Serves other bytes than the declared ones (one byte flipped). */
  | { kind: 'corrupt'; times?: number }
  /** Sends the headers and the first `afterBytes` bytes, then nothing more, never ending. */
  | { kind: 'stall'; afterBytes: number; times?: number };

export interface FakeFile {
  name: string;
  bytes: Buffer;
  /** The download needs a key (401 without `Authorization: Bearer …` or `?token=`). */
  needsKey?: boolean;
}

export interface FakeCivitaiRequest {
  endpoint: FakeEndpoint | 'file' | 'unknown';
  path: string;
  authorization: string | null;
  /** The `Range` header, when the request asked for part of a file. */
  range: string | null;
  at: number;
}

/** One model with its versions (newest first, as Civitai lists them) and their files. */
export interface FakeModel extends CivitaiModelSpec {
  /** Version id → the file the download endpoint serves. */
  files?: Record<number, FakeFile>;
}

export class FakeCivitai {
  readonly requests: FakeCivitaiRequest[] = [];
  private readonly models = new Map<number, FakeModel>();
  private readonly faults = new Map<FakeEndpoint, Fault>();
  private readonly hung: ServerResponse[] = [];
  private readonly assets = new Map<string, { bytes: Buffer; type: string }>();
  private server?: Server;
  /** Where `/api/download/models/{id}` redirects; another fake can stand for a foreign host. */
  fileHost?: string;
  /** A fault of the file host (`/files/…`), if any. */
  fileFault: FileFault | null = null;
  /** The file host's sending rate in bytes per second (unthrottled when absent). */
  fileBytesPerSecond?: number;

  get url(): string {
    const { port } = this.server!.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    for (const res of this.hung.splice(0)) res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  addModel(model: FakeModel): void {
    this.models.set(model.id, model);
  }

  /** Serves `bytes` at `path` (an image host for example images and previews); returns its URL. */
  addAsset(path: string, bytes: Buffer, type: string): string {
    this.assets.set(path, { bytes, type });
    return `${this.url}${path}`;
  }

  /** Makes the next `times` requests to `endpoint` (all of them without `times`) fail this way. */
  fault(endpoint: FakeEndpoint, fault: Fault | null): void {
    if (fault) this.faults.set(endpoint, fault);
    else this.faults.delete(endpoint);
  }

  count(endpoint: FakeCivitaiRequest['endpoint']): number {
    return this.requests.filter((r) => r.endpoint === endpoint).length;
  }

  private versions(): { model: FakeModel; version: CivitaiVersionSpec }[] {
    return [...this.models.values()].flatMap((model) => model.versions.map((version) => ({ model, version })));
  }

  private versionJson(model: FakeModel, version: CivitaiVersionSpec): Record<string, unknown> {
    return civitaiVersionJson({
      ...version,
      modelId: model.id,
      model: { name: model.name, type: model.type ?? 'LORA', nsfw: model.nsfw ?? false },
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    const path = url.pathname;
    const endpoint = endpointOf(path);
    this.requests.push({
      endpoint,
      path: req.url ?? '',
      authorization: req.headers.authorization ?? null,
      range: req.headers.range ?? null,
      at: Date.now(),
    });
    if (endpoint !== 'unknown' && endpoint !== 'file' && this.applyFault(endpoint, res)) return;
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    let m: RegExpExecArray | null;
    if ((m = /^\/api\/v1\/model-versions\/by-hash\/([^/]+)$/.exec(path))) {
      const hash = decodeURIComponent(m[1]).toUpperCase();
      const found = this.versions().find(({ version }) =>
        (version.files ?? []).some(
          (f) =>
            [f.sha256, f.autoV3, f.autoV1, f.blake3, f.crc32].some((h) => h?.toUpperCase() === hash) ||
            (f.sha256 !== undefined && f.sha256.slice(0, 10).toUpperCase() === hash),
        ),
      );
      return found ? json(200, this.versionJson(found.model, found.version)) : json(404, { error: 'Model not found' });
    }
    if ((m = /^\/api\/v1\/model-versions\/(\d+)$/.exec(path))) {
      const found = this.versions().find(({ version }) => version.id === Number(m![1]));
      return found ? json(200, this.versionJson(found.model, found.version)) : json(404, { error: 'Model not found' });
    }
    if ((m = /^\/api\/v1\/models\/(\d+)$/.exec(path))) {
      const model = this.models.get(Number(m[1]));
      return model ? json(200, civitaiModelJson(model)) : json(404, { error: `No model with id ${m[1]}` });
    }
    if (path === '/api/v1/models') return this.search(url, json);
    if (path === '/api/v1/images') {
      const id = Number(url.searchParams.get('modelVersionId'));
      const found = this.versions().find(({ version }) => version.id === id);
      const items = (found?.version.images ?? []).map((image, i) => ({
        id: id * 100 + i,
        url: image.url,
        nsfwLevel: image.nsfwLevel ?? 1,
        width: image.width ?? 512,
        height: image.height ?? 768,
        meta: image.meta ?? null,
        modelVersionId: id,
      }));
      return json(200, { items, metadata: { nextCursor: null } });
    }
    if ((m = /^\/api\/download\/models\/(\d+)$/.exec(path))) {
      const id = Number(m[1]);
      const model = this.versions().find(({ version }) => version.id === id)?.model;
      const file = model?.files?.[id];
      if (!file) return json(404, { error: 'Model not found' });
      const key = req.headers.authorization?.startsWith('Bearer ') || url.searchParams.has('token');
      if (file.needsKey && !key) return json(401, { error: 'Unauthorized' });
      res.writeHead(307, { location: `${this.fileHost ?? this.url}/files/${id}/${encodeURIComponent(file.name)}` });
      return void res.end();
    }
    if ((m = /^\/files\/(\d+)\/([^/]+)$/.exec(path))) {
      const id = Number(m[1]);
      const file = this.versions().find(({ version }) => version.id === id)?.model.files?.[id];
      if (!file) return json(404, { error: 'no such file' });
      return this.serveFile(req, res, file.bytes);
    }
    const asset = this.assets.get(path);
    if (asset) {
      res.writeHead(200, { 'content-type': asset.type, 'content-length': asset.bytes.length });
      return void res.end(asset.bytes);
    }
    json(404, { error: 'Not found' });
  }

  /** The file with the file host's fault, if one is on, else as `serveRange` serves it (throttled when set). */
  private serveFile(req: IncomingMessage, res: ServerResponse, bytes: Buffer): void {
    const fault = this.fileFault;
    if (fault && fault.times !== undefined) {
      if (fault.times <= 0) this.fileFault = null;
      else fault.times--;
    }
    const active = this.fileFault === fault ? fault : null;
    const pace = { bytesPerSecond: this.fileBytesPerSecond };
    if (active?.kind === 'corrupt') {
      const copy = Buffer.from(bytes);
      copy[copy.length >> 1] ^= 0xff;
      return serveRange(req, res, copy, pace);
    }
    if (active?.kind === 'cut' || active?.kind === 'stall') {
      const then = active.kind === 'cut' ? () => res.destroy() : () => void this.hung.push(res);
      return serveRange(req, res, bytes, { ...pace, stopAfter: active.afterBytes, then });
    }
    serveRange(req, res, bytes, pace);
  }

  private search(url: URL, json: (status: number, body: unknown) => void): void {
    const limit = Math.min(100, Number(url.searchParams.get('limit') ?? 20) || 20);
    const query = (url.searchParams.get('query') ?? '').toLowerCase();
    const all = [...this.models.values()]
      .filter((m) => m.name.toLowerCase().includes(query))
      .sort((a, b) => a.id - b.id);
    const cursor = Number(url.searchParams.get('cursor') ?? 0);
    const page = all.filter((m) => m.id > cursor).slice(0, limit);
    const last = page.at(-1);
    const more = last !== undefined && all.some((m) => m.id > last.id);
    json(200, {
      items: page.map((m) => civitaiModelJson(m)),
      metadata: more ? { nextCursor: String(last.id), nextPage: `${this.url}/api/v1/models?cursor=${last.id}` } : {},
    });
  }

  /** True when a fault answered (or swallowed) the request. */
  private applyFault(endpoint: FakeEndpoint, res: ServerResponse): boolean {
    const fault = this.faults.get(endpoint);
    if (!fault) return false;
    if (fault.times !== undefined) {
      if (fault.times <= 0) {
        this.faults.delete(endpoint);
        return false;
      }
      fault.times--;
    }
    switch (fault.kind) {
      case 'status':
        res.writeHead(fault.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: `fault ${fault.status}` }));
        return true;
      case 'rate_limit':
        res.writeHead(429, {
          'content-type': 'application/json',
          ...(fault.retryAfter === null ? {} : { 'retry-after': fault.retryAfter }),
        });
        res.end(JSON.stringify({ error: 'Too many requests' }));
        return true;
      case 'hang':
        this.hung.push(res);
        return true;
      case 'malformed':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"id": 12, "files": [');
        return true;
      case 'oversized': {
        // Streamed without a length, so only reading it shows how big it is.
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"id": 1, "description": "');
        const block = Buffer.alloc(64 * 1024, 'x');
        for (let sent = 0; sent < fault.bytes; sent += block.length) res.write(block);
        res.end('"}');
        return true;
      }
    }
  }
}

function endpointOf(path: string): FakeCivitaiRequest['endpoint'] {
  if (path.startsWith('/api/v1/model-versions/by-hash/')) return 'by_hash';
  if (/^\/api\/v1\/model-versions\/\d+$/.test(path)) return 'version';
  if (/^\/api\/v1\/models\/\d+$/.test(path)) return 'model';
  if (path === '/api/v1/models') return 'models';
  if (path === '/api/v1/images') return 'images';
  if (path.startsWith('/api/download/models/')) return 'download';
  if (path.startsWith('/files/')) return 'file';
  return 'unknown';
}

/**
 * A file with `Accept-Ranges: bytes` and an ETag: a `Range: bytes=N-` request gets 206 and the rest from N (a whole
 * 200 when its `If-Range` names another ETag). Sent at `bytesPerSecond` when given.
 */
interface Pace {
  bytesPerSecond?: number;
  /** Sends only this many bytes of the body, then calls `then` (drop the connection, or leave it silent). */
  stopAfter?: number;
  then?: () => void;
}

function serveRange(req: IncomingMessage, res: ServerResponse, bytes: Buffer, pace: Pace = {}): void {
  const etag = `"${createHash('sha1').update(bytes).digest('hex').slice(0, 16)}"`;
  const ifRange = req.headers['if-range'];
  const range = ifRange && ifRange !== etag ? null : /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
  if (!range) {
    res.writeHead(200, {
      'content-length': bytes.length,
      'accept-ranges': 'bytes',
      'content-type': 'application/octet-stream',
      etag,
    });
    return sendPaced(res, bytes, pace);
  }
  const start = Number(range[1]);
  const end = range[2] === '' ? bytes.length - 1 : Math.min(bytes.length - 1, Number(range[2]));
  if (start >= bytes.length) {
    res.writeHead(416, { 'content-range': `bytes */${bytes.length}` });
    return void res.end();
  }
  res.writeHead(206, {
    'content-length': end - start + 1,
    'content-range': `bytes ${start}-${end}/${bytes.length}`,
    'accept-ranges': 'bytes',
    'content-type': 'application/octet-stream',
    etag,
  });
  sendPaced(res, bytes.subarray(start, end + 1), pace);
}

/** Sends the bytes at once, or in 64 KiB slices at `bytesPerSecond`; stops early when told. */
function sendPaced(res: ServerResponse, bytes: Buffer, { bytesPerSecond, stopAfter, then }: Pace): void {
  if (stopAfter !== undefined) {
    res.write(bytes.subarray(0, stopAfter), () => setTimeout(() => then?.(), 20));
    return;
  }
  if (!bytesPerSecond) return void res.end(bytes);
  const slice = 64 * 1024;
  let at = 0;
  const next = () => {
    if (res.destroyed) return;
    if (at + slice >= bytes.length) return void res.end(bytes.subarray(at));
    res.write(bytes.subarray(at, at + slice));
    at += slice;
    setTimeout(next, (slice / bytesPerSecond) * 1000);
  };
  next();
}
