import { Module } from '@nestjs/common';
import { ProcessLeaseRepository } from './process-lease.repository.js';
import { ProcessLeaseService } from './process-lease.service.js';

/** Leases of duties that one process performs at a time (see `ProcessLeaseService`). */
@Module({
  providers: [ProcessLeaseRepository, ProcessLeaseService],
  exports: [ProcessLeaseService],
})
export class LeasesModule {}
