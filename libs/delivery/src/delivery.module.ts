import { Module } from '@nestjs/common';
import { AdaptersModule } from '@app/adapters';
import { JobName, rowIdQueuedJobSource } from '@app/core';
import { GenerationModule } from '@app/generation';
import type { DeliveryBackend } from './delivery-backend.js';
import { DELIVERY_BACKENDS, DeliveryBackendRegistry } from './delivery-backend.registry.js';
import { DeliveryJobHandler } from './delivery-job.handler.js';
import { DeliveryJobRepository } from './delivery-job.repository.js';
import { DeliveryService } from './delivery.service.js';
import { DisclosurePolicy } from './disclosure.policy.js';
import { CliDeliveryBackend } from './backends/cli.backend.js';
import { HttpDeliveryBackend } from './backends/http.backend.js';
import { SdNextDeliveryBackend } from './backends/sdnext.backend.js';

/** The backends, by class: a new backend is one class implementing `DeliveryBackend`, added here. */
export const DELIVERY_BACKEND_TYPES = [HttpDeliveryBackend, CliDeliveryBackend, SdNextDeliveryBackend];

/** Deliveries: imported by the API (endpoints, embedded runner) and the worker (queued jobs). */
@Module({
  imports: [GenerationModule, AdaptersModule],
  providers: [
    ...DELIVERY_BACKEND_TYPES,
    {
      provide: DELIVERY_BACKENDS,
      useFactory: (...backends: DeliveryBackend[]) => backends,
      inject: DELIVERY_BACKEND_TYPES,
    },
    DeliveryBackendRegistry,
    DeliveryJobRepository,
    DeliveryService,
    DeliveryJobHandler,
    rowIdQueuedJobSource(JobName.Delivery, DeliveryJobRepository),
    DisclosurePolicy,
  ],
  exports: [DeliveryService, DisclosurePolicy],
})
export class DeliveryModule {}
