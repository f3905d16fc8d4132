import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';

/** One response an e2e suite received from the API, as a client saw it. */
export interface RecordedResponse {
  method: string;
  /** Path without the query string. */
  path: string;
  status: number;
  contentType: string;
  /** The parsed body when it was JSON; undefined otherwise. */
  body?: unknown;
  /** The response had bytes but they were not JSON (or not parseable). */
  rawBody: boolean;
}

/** Bodies above this are not kept (images, large pages); their status and content type are still checked. */
const MAX_RECORDED_BODY = 8 * 1024 * 1024;

/**
 * Shared by the API processes of one test file: on when the contract setup file (test/support/contract-setup.ts)
 * runs, so benchmarks and ad-hoc runs of `AppProcess` are not proxied.
 */
export const contractRecording = {
  enabled: false,
  records: [] as RecordedResponse[],
  /** The served document, fetched from the first API that answered. */
  document: undefined as Promise<unknown> | undefined,
  /** Headers that open `/docs-json` when the API requires a key. */
  docsHeaders: {} as Record<string, string>,
};

/**
 * A reverse proxy in front of an API process that records every response (method, path, status, content type,
 * JSON body) for the contract check, and passes WebSocket upgrades (Socket.IO) through untouched.
 */
export class RecordingProxy {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor(
    readonly port: number,
    readonly upstreamPort: number,
  ) {
    this.server = createServer((req, res) => {
      const upstream = request(
        { host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
          this.record(req, answer);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
      req.pipe(upstream);
    });
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.server.on('upgrade', (req: IncomingMessage, client: Socket, head: Buffer) => {
      const target = connect(upstreamPort, '127.0.0.1', () => {
        const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
        for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
        target.write(`${lines.join('\r\n')}\r\n\r\n`);
        if (head.length > 0) target.write(head);
        target.pipe(client).pipe(target);
      });
      this.sockets.add(target);
      target.on('close', () => this.sockets.delete(target));
      target.on('error', () => client.destroy());
      client.on('error', () => target.destroy());
    });
    // A proxy of the API process before it may still be releasing the port: retry briefly.
    let retries = 40;
    this.server.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EADDRINUSE' || retries-- === 0) throw error;
      setTimeout(() => this.server.listen(port, '127.0.0.1'), 50);
    });
    this.server.listen(port, '127.0.0.1');
  }

  close(): void {
    this.server.close();
    for (const socket of this.sockets) socket.destroy();
  }

  private record(req: IncomingMessage, answer: IncomingMessage): void {
    const path = (req.url ?? '/').split('?')[0];
    if (!isContractPath(path)) return;
    const contentType = String(answer.headers['content-type'] ?? '');
    const chunks: Buffer[] = [];
    let size = 0;
    answer.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_RECORDED_BODY) chunks.push(chunk);
    });
    answer.on('end', () => {
      const entry: RecordedResponse = {
        method: req.method ?? 'GET',
        path,
        status: answer.statusCode ?? 0,
        contentType,
        rawBody: false,
      };
      if (size > 0 && /\bjson\b/.test(contentType) && size <= MAX_RECORDED_BODY) {
        try {
          entry.body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
        } catch {
          entry.rawBody = true;
        }
      } else if (size > 0) {
        entry.rawBody = true;
      }
      contractRecording.records.push(entry);
      if (!contractRecording.document) {
        contractRecording.document = this.fetchDocument();
        // Awaited by the check at the end of the file; until then a failure must not be an unhandled rejection.
        contractRecording.document.catch(() => undefined);
      }
    });
  }

  private async fetchDocument(): Promise<unknown> {
    const res = await fetch(`http://127.0.0.1:${this.upstreamPort}/docs-json`, {
      headers: contractRecording.docsHeaders,
    });
    if (!res.ok) throw new Error(`GET /docs-json answered ${res.status}`);
    return res.json();
  }
}

/** Paths the OpenAPI document covers; the web app, `/docs` and Socket.IO's polling are not part of it. */
export function isContractPath(path: string): boolean {
  return path.startsWith('/api/') || path.startsWith('/health/') || path === '/metrics';
}
