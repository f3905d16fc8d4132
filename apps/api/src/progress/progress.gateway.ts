import { Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  type OnGatewayInit,
  SubscribeMessage,
  WebSocketGateway,
  WebSocketServer,
} from '@nestjs/websockets';
import { ApiKeyService, EventBus, type ProgressMessage, ProgressTopic, topicOf } from '@app/core';
import type { Subscription } from 'rxjs';
import type { Namespace, Socket } from 'socket.io';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TOPICS = new Set<string>(Object.values(ProgressTopic));

export interface SubscribeAck {
  ok: boolean;
  room?: string;
  error?: string;
}

export const jobRoom = (jobId: string): string => `job:${jobId}`;
export const topicRoom = (topic: string): string => `topic:${topic}`;

/**
 * Namespace `/progress`: authenticate in the handshake (`auth: { apiKey }`), then `subscribe` to
 * `{ jobId }` or `{ topic }`. Events go to rooms, never broadcast.
 */
@WebSocketGateway({ namespace: '/progress', cors: { origin: true } })
export class ProgressGateway implements OnGatewayInit, OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(ProgressGateway.name);
  private subscription?: Subscription;

  @WebSocketServer()
  private readonly server: Namespace;

  constructor(
    private readonly keys: ApiKeyService,
    private readonly bus: EventBus,
  ) {}

  onModuleInit(): void {
    this.subscription = this.bus.messages.subscribe((message) => this.forward(message));
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
  }

  /** Authenticates in the handshake: a client without a valid key gets `connect_error` and never joins. */
  afterInit(namespace: Namespace): void {
    namespace.use((client, next) => {
      const auth = client.handshake.auth as { apiKey?: unknown } | undefined;
      const presented =
        (typeof auth?.apiKey === 'string' ? auth.apiKey : undefined) ??
        ApiKeyService.fromHeaders(client.handshake.headers);
      const principal = this.keys.verify(presented);
      if (!principal) return next(new Error('unauthorized: a valid API key is required in auth.apiKey'));
      (client.data as { principal?: unknown }).principal = principal;
      next();
    });
  }

  @SubscribeMessage('subscribe')
  subscribe(@ConnectedSocket() client: Socket, @MessageBody() body: unknown): SubscribeAck {
    const room = this.roomFor(body);
    if ('error' in room) {
      client.emit('subscription.error', { error: room.error, request: body ?? null });
      return { ok: false, error: room.error };
    }
    void client.join(room.room);
    return { ok: true, room: room.room };
  }

  @SubscribeMessage('unsubscribe')
  unsubscribe(@ConnectedSocket() client: Socket, @MessageBody() body: unknown): SubscribeAck {
    const room = this.roomFor(body);
    if ('error' in room) return { ok: false, error: room.error };
    void client.leave(room.room);
    return { ok: true, room: room.room };
  }

  private roomFor(body: unknown): { room: string } | { error: string } {
    if (typeof body !== 'object' || body === null) return { error: 'subscribe needs { jobId } or { topic }' };
    const { jobId, topic } = body as { jobId?: unknown; topic?: unknown };
    if (jobId !== undefined) {
      if (typeof jobId !== 'string' || !UUID.test(jobId)) return { error: 'jobId must be a UUID' };
      return { room: jobRoom(jobId.toLowerCase()) };
    }
    if (topic !== undefined) {
      if (typeof topic !== 'string' || !TOPICS.has(topic)) {
        return { error: `topic must be one of ${[...TOPICS].join(', ')}` };
      }
      return { room: topicRoom(topic) };
    }
    return { error: 'subscribe needs { jobId } or { topic }' };
  }

  private forward(message: ProgressMessage): void {
    if (!this.server) return;
    const rooms = [jobRoom(message.payload.jobId.toLowerCase()), topicRoom(topicOf(message.event))];
    // One emit to the union of rooms: a client in both gets the event once.
    this.server.to(rooms).emit(message.event, message.payload);
    this.logger.debug?.(`${message.event} → ${rooms.join(', ')}`);
  }
}
