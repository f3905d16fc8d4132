import { Global, Module } from '@nestjs/common';
import { ApiKeyService } from './api-key.service.js';

@Global()
@Module({ providers: [ApiKeyService], exports: [ApiKeyService] })
export class SecurityModule {}
