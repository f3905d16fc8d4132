import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';

/**
 * A port found free is closed again before the app that will use it binds it, so the kernel may hand the same port
 * to the next request in that window: a worker and the API behind the contract proxy once got one port, the API
 * died with EADDRINUSE and the worker answered its requests. Every port given out in this process is remembered
 * and never given out twice.
 */
const handedOut = new Set<number>();

function claim(port: number): boolean {
  if (!port || handedOut.has(port)) return false;
  handedOut.add(port);
  return true;
}

function probeOnce(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** A free TCP port on 127.0.0.1 that no other caller in this process has been given. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await probeOnce();
    if (claim(port)) return port;
  }
}

const PROBE =
  "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port));s.close()})";

/** As `freePort`, synchronously (AppProcess.start is synchronous and must pick the API's own port before spawning). */
export function freePortSync(): number {
  for (;;) {
    const port = Number(execFileSync(process.execPath, ['-e', PROBE], { encoding: 'utf8' }));
    if (claim(port)) return port;
  }
}
