import { Global, Module } from '@nestjs/common';
import { ApiKeyService } from './api-key.service.js';
import { RequestAuthenticator } from './request-authenticator.js';
import { SessionService } from './session.service.js';
import { WebAccessPolicy } from './web-access.policy.js';

@Global()
@Module({
  providers: [ApiKeyService, SessionService, RequestAuthenticator, WebAccessPolicy],
  exports: [ApiKeyService, SessionService, RequestAuthenticator, WebAccessPolicy],
})
export class SecurityModule {}
