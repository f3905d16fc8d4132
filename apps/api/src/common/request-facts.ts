import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { RequestFacts } from '@app/core';

/** The facts the access rules read, from an HTTP request or a Socket.IO handshake's request. */
export const factsOf = (req: IncomingMessage): RequestFacts => ({
  headers: req.headers,
  encrypted: (req.socket as Partial<TLSSocket> | undefined)?.encrypted === true,
  remoteAddress: req.socket?.remoteAddress,
});
