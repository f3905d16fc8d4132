import { Inject, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  type OnGatewayConnection,
  type OnGatewayInit,
  SubscribeMessage,
  WebSocketGateway,
  WebSocketServer,
} from '@nestjs/websockets';
import {
  APP_CONFIG,
  type AppConfig,
  AuthMethod,
  EventBus,
  type Principal,
  type ProgressMessage,
  ProgressTopic,
  RequestAuthenticator,
  Role,
  topicOf,
  WebAccessPolicy,
} from '@app/core';
import { DisclosurePolicy } from '@app/delivery';
import type { Subscription } from 'rxjs';
import type { Namespace, Socket } from 'socket.io';
import { factsOf } from '../common/request-facts.js';
import { type JobState, ProgressReplay } from './progress-replay.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TOPICS = new Set<string>(Object.values(ProgressTopic));

export interface SubscribeAck {
  ok: boolean;
  room?: string;
  error?: string;
  /** On a job subscription: where the job stands now (absent for an id that names no job yet). */
  state?: JobState;
}

export const jobRoom = (jobId: string): string => `job:${jobId}`;
export const topicRoom = (topic: string): string => `topic:${topic}`;
/** Every connection is in the room of its role, so that each role gets events as it may see them. */
const roleRoom = (role: Role): string => `role:${role}`;
const ROLES = Object.values(Role);
/** For each role, the rooms of the others: an emit for one role leaves the connections of every other role out. */
const OTHER_ROLE_ROOMS = new Map(ROLES.map((role) => [role, ROLES.filter((r) => r !== role).map(roleRoom)]));

const principalOf = (client: Socket): Principal => (client.data as { principal: Principal }).principal;

/**
 * Namespace `/progress`: authenticate in the handshake (`auth: { apiKey }`, a key header or the session cookie), then
 * `subscribe` to `{ jobId }` or `{ topic }`. Events go to rooms, never broadcast. No CORS: browsers connect from the
 * service's own pages only.
 */
@WebSocketGateway({ namespace: '/progress' })
export class ProgressGateway implements OnGatewayInit, OnGatewayConnection, OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(ProgressGateway.name);
  private subscription?: Subscription;
  private readonly connectionsByKey = new Map<string, number>();
  private readonly maxJobSubscriptions: number;
  private readonly maxConnectionsPerKey: number;

  @WebSocketServer()
  private readonly server: Namespace;

  constructor(
    private readonly authenticator: RequestAuthenticator,
    private readonly access: WebAccessPolicy,
    private readonly disclosure: DisclosurePolicy,
    private readonly bus: EventBus,
    private readonly replay: ProgressReplay,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.maxJobSubscriptions = config.socket.maxJobSubscriptions;
    this.maxConnectionsPerKey = config.socket.maxConnectionsPerKey;
  }

  onModuleInit(): void {
    this.subscription = this.bus.messages.subscribe((message) => this.forward(message));
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
  }

  /**
   * Checks the handshake like an HTTP request (loopback Host and own Origin without keys; own Origin for the session
   * cookie), then the key or cookie and the connections per key: a refused client gets `connect_error` and never joins.
   */
  afterInit(namespace: Namespace): void {
    namespace.use((client, next) => {
      const facts = factsOf(client.request);
      const refusal = this.access.refusal(facts, 'GET', '/socket.io/');
      if (refusal) return next(new Error(`${refusal.code}: ${refusal.message}`));
      const given = (client.handshake.auth as { apiKey?: unknown } | undefined)?.apiKey;
      const auth = this.authenticator.authenticate(
        client.handshake.headers,
        typeof given === 'string' ? given : undefined,
      );
      if (!auth) return next(new Error('unauthorized: a valid API key (auth.apiKey) or session cookie is required'));
      if (auth.method === AuthMethod.Session) {
        const csrf = this.access.csrfRefusal(facts);
        if (csrf) return next(new Error(`${csrf.code}: ${csrf.message}`));
      }
      const keyId = auth.principal.keyId;
      const open = this.connectionsByKey.get(keyId) ?? 0;
      if (open >= this.maxConnectionsPerKey) {
        return next(
          new Error(
            `too_many_connections: at most ${this.maxConnectionsPerKey} connections per key (SOCKET_MAX_CONNECTIONS_PER_KEY)`,
          ),
        );
      }
      this.connectionsByKey.set(keyId, open + 1);
      client.once('disconnect', () => {
        const left = (this.connectionsByKey.get(keyId) ?? 1) - 1;
        if (left > 0) this.connectionsByKey.set(keyId, left);
        else this.connectionsByKey.delete(keyId);
      });
      (client.data as { principal?: Principal }).principal = auth.principal;
      next();
    });
  }

  handleConnection(client: Socket): void {
    void client.join(roleRoom(principalOf(client).role));
  }

  /**
   * Joins the room, then replays a job's current state to this client alone (the event a subscriber would have seen
   * last, as its role may see it): a client that subscribes after queueing misses nothing. Joining first means an
   * event may arrive twice, never not at all.
   */
  @SubscribeMessage('subscribe')
  async subscribe(@ConnectedSocket() client: Socket, @MessageBody() body: unknown): Promise<SubscribeAck> {
    const target = this.roomFor(body);
    if ('error' in target) return this.refuse(client, body, target.error);
    const limit = this.subscriptionLimitError(client, target.room);
    if (limit !== null) return this.refuse(client, body, limit);
    await client.join(target.room);
    const jobId = target.jobId;
    if (jobId === undefined) return { ok: true, room: target.room };
    const replay = await this.replay.of(jobId).catch((error: unknown) => {
      this.logger.warn(`No replay of job ${jobId}: ${String(error)}`);
      return null;
    });
    if (!replay) return { ok: true, room: target.room };
    const role = principalOf(client).role;
    for (const message of replay.events) {
      const seen = this.disclosure.event(role, message);
      client.emit(seen.event, seen.payload);
    }
    return { ok: true, room: target.room, state: replay.state };
  }

  private refuse(client: Socket, request: unknown, error: string): SubscribeAck {
    client.emit('subscription.error', { error, request: request ?? null });
    return { ok: false, error };
  }

  @SubscribeMessage('unsubscribe')
  unsubscribe(@ConnectedSocket() client: Socket, @MessageBody() body: unknown): SubscribeAck {
    const room = this.roomFor(body);
    if ('error' in room) return { ok: false, error: room.error };
    void client.leave(room.room);
    return { ok: true, room: room.room };
  }

  private subscriptionLimitError(client: Socket, room: string): string | null {
    if (!room.startsWith(jobRoom('')) || client.rooms.has(room)) return null;
    const jobs = [...client.rooms].filter((r) => r.startsWith(jobRoom(''))).length;
    return jobs < this.maxJobSubscriptions
      ? null
      : `at most ${this.maxJobSubscriptions} job ids per connection (SOCKET_MAX_JOB_SUBSCRIPTIONS); unsubscribe from some first`;
  }

  private roomFor(body: unknown): { room: string; jobId?: string } | { error: string } {
    if (typeof body !== 'object' || body === null) return { error: 'subscribe needs { jobId } or { topic }' };
    const { jobId, topic } = body as { jobId?: unknown; topic?: unknown };
    if (jobId !== undefined) {
      if (typeof jobId !== 'string' || !UUID.test(jobId)) return { error: 'jobId must be a UUID' };
      return { room: jobRoom(jobId.toLowerCase()), jobId: jobId.toLowerCase() };
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
    // Each emit serialises the event, even for rooms nobody is in: an event no client of this process subscribed to,
    // and a role none of them has, are skipped. (Every API process forwards every event to its own clients: there is
    // no Socket.IO adapter between processes.)
    const members = this.server.adapter.rooms;
    if (!rooms.some((room) => members.get(room)?.size)) return;
    // One emit per role to the union of rooms: a client in both gets the event once, as its role may see it.
    for (const role of ROLES) {
      if (!members.get(roleRoom(role))?.size) continue;
      const seen = this.disclosure.event(role, message);
      this.server.to(rooms).except(OTHER_ROLE_ROOMS.get(role)!).emit(seen.event, seen.payload);
    }
    this.logger.debug?.(`${message.event} → ${rooms.join(', ')}`);
  }
}
