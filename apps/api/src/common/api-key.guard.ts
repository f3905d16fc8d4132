import { type CanActivate, type ExecutionContext, ForbiddenException, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiKeyService, PUBLIC_METADATA, Role, ROLE_METADATA, roleSatisfies } from '@app/core';
import type { Request } from 'express';

/** Every route needs a key once keys are configured; GET reads need viewer, other methods editor, unless declared. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly keys: ApiKeyService,
    private readonly reflector: Reflector,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_METADATA, targets)) return true;
    const req = context.switchToHttp().getRequest<Request & { principal?: unknown }>();
    const principal = this.keys.verify(ApiKeyService.fromHeaders(req.headers));
    if (!principal) {
      throw new UnauthorizedException({ message: 'A valid API key is required (X-API-Key or Authorization: Bearer)', code: 'unauthorized' });
    }
    const declared = this.reflector.getAllAndOverride<Role | undefined>(ROLE_METADATA, targets);
    const required = declared ?? (['GET', 'HEAD', 'OPTIONS'].includes(req.method) ? Role.Viewer : Role.Editor);
    if (!roleSatisfies(principal.role, required)) {
      throw new ForbiddenException({ message: `This action needs the ${required} role`, code: 'forbidden' });
    }
    req.principal = principal;
    return true;
  }
}
