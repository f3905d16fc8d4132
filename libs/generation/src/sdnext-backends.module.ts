import { Global, Module } from '@nestjs/common';
import { LoraNameSource } from '@app/composition';
import { SdNextBackends } from './sdnext-backends.js';
import { SdNextLoraNames } from './sdnext-lora-names.js';

/**
 * The configured SD.Next backends, global so that composition (which cannot import generation) can check
 * tokens against a backend's LoRA list through the `LoraNameSource` port.
 */
@Global()
@Module({
  providers: [SdNextBackends, { provide: LoraNameSource, useClass: SdNextLoraNames }],
  exports: [SdNextBackends, LoraNameSource],
})
export class SdNextBackendsModule {}
