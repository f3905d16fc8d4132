import { createConnection, createServer, type Server, type Socket } from 'node:net';

export type ProxyMode = 'forward' | 'blackhole';

/**
 * A TCP proxy on 127.0.0.1 for fault tests: `cut()` drops every connection and stops listening (clients get
 * ECONNREFUSED), `blackhole()` accepts connections but never answers (clients time out), `restore()` forwards
 * again on the same port.
 */
export class TcpProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private mode: ProxyMode = 'forward';
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(port = 0): Promise<number> {
    const server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    this.port = typeof address === 'object' && address ? address.port : port;
    this.server = server;
    return this.port;
  }

  private accept(client: Socket): void {
    this.sockets.add(client);
    client.on('close', () => this.sockets.delete(client));
    client.on('error', () => client.destroy());
    if (this.mode === 'blackhole') return; // read nothing, answer nothing
    const upstream = createConnection({ host: this.targetHost, port: this.targetPort });
    this.sockets.add(upstream);
    upstream.on('close', () => {
      this.sockets.delete(upstream);
      client.destroy();
    });
    upstream.on('error', () => upstream.destroy());
    client.on('close', () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  }

  /** Live connections through the proxy (both sides counted). */
  get connections(): number {
    return this.sockets.size;
  }

  private dropAll(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  /** Drops every connection and stops listening. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.dropAll();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Drops every connection; new ones are accepted and left hanging. */
  async blackhole(): Promise<void> {
    this.mode = 'blackhole';
    this.dropAll();
    if (!this.server) await this.start(this.port);
  }

  /** Forwards again, on the same port. */
  async restore(): Promise<void> {
    if (this.mode === 'blackhole') this.dropAll();
    this.mode = 'forward';
    if (!this.server) await this.start(this.port);
  }

  async stop(): Promise<void> {
    await this.cut();
  }
}
