import { Injectable } from '@nestjs/common';
import { Observable, Subject } from 'rxjs';
import type { ProgressEventMap, ProgressEventName, ProgressMessage } from './progress-events.js';

/**
 * In-process bus of progress events. Job runners publish to it (embedded mode directly, scale-out mode from
 * BullMQ `QueueEvents`), and the Socket.IO gateway forwards what it carries to its clients.
 */
@Injectable()
export class EventBus {
  private readonly subject = new Subject<ProgressMessage>();

  publish<E extends ProgressEventName>(event: E, payload: ProgressEventMap[E]): void {
    this.subject.next({ event, payload } as ProgressMessage);
  }

  publishMessage(message: ProgressMessage): void {
    this.subject.next(message);
  }

  get messages(): Observable<ProgressMessage> {
    return this.subject.asObservable();
  }
}
