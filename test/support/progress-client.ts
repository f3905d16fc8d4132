import type { ProgressEventMap, ProgressEventName } from '@app/core';
import { io, type Socket } from 'socket.io-client';

export interface ReceivedEvent {
  event: ProgressEventName;
  payload: ProgressEventMap[ProgressEventName];
  at: number;
}

/** A Socket.IO client of the `/progress` namespace that records every event it receives. */
export class ProgressClient {
  readonly events: ReceivedEvent[] = [];
  readonly socket: Socket;

  constructor(baseUrl: string, apiKey?: string) {
    this.socket = io(`${baseUrl}/progress`, {
      auth: apiKey ? { apiKey } : {},
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    this.socket.onAny((event: ProgressEventName, payload: ProgressEventMap[ProgressEventName]) => {
      this.events.push({ event, payload, at: Date.now() });
    });
  }

  connected(timeoutMs = 5000): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.socket.connected) return resolve();
      const timer = setTimeout(() => reject(new Error('socket did not connect')), timeoutMs);
      this.socket.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      this.socket.once('connect_error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  }

  subscribe(body: unknown): Promise<{ ok: boolean; room?: string; error?: string }> {
    return this.socket.timeout(5000).emitWithAck('subscribe', body);
  }

  async waitFor(predicate: (e: ReceivedEvent) => boolean, timeoutMs = 15_000): Promise<ReceivedEvent> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = this.events.find(predicate);
      if (found) return found;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`event not received; got: ${this.events.map((e) => e.event).join(', ')}`);
  }

  ofJob(jobId: string): ReceivedEvent[] {
    return this.events.filter((e) => e.payload.jobId === jobId);
  }

  close(): void {
    this.socket.close();
  }
}
