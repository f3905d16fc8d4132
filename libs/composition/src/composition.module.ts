import { Module } from '@nestjs/common';
import { AdaptersModule } from '@app/adapters';
import { CompositionService } from './composition.service.js';

@Module({
  imports: [AdaptersModule],
  providers: [CompositionService],
  exports: [CompositionService],
})
export class CompositionModule {}
