import {
  type CanActivate,
  type ExecutionContext,
  ForbiddenException,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthMethod, RequestAuthenticator, Role, roleSatisfies, SAFE_METHODS, WebAccessPolicy } from '@app/core';
import { PUBLIC_METADATA, ROLE_METADATA } from '@app/core/http';
import type { Request } from 'express';
import { factsOf } from './request-facts.js';

/**
 * Every route needs a key (or the browser session cookie) once keys are configured; GET reads need viewer, other
 * methods editor, unless declared. Cookie-authenticated writes must come from the service's own pages (CSRF).
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly authenticator: RequestAuthenticator,
    private readonly access: WebAccessPolicy,
    private readonly reflector: Reflector,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_METADATA, targets)) return true;
    const req = context.switchToHttp().getRequest<Request & { principal?: unknown }>();
    const auth = this.authenticator.authenticate(req.headers);
    if (!auth) {
      throw new UnauthorizedException({
        message: 'A valid API key (X-API-Key or Authorization: Bearer) or session cookie is required',
        code: 'unauthorized',
      });
    }
    if (auth.method === AuthMethod.Session && !SAFE_METHODS.has(req.method)) {
      const refusal = this.access.csrfRefusal(factsOf(req));
      if (refusal) throw new ForbiddenException({ message: refusal.message, code: refusal.code });
    }
    const declared = this.reflector.getAllAndOverride<Role | undefined>(ROLE_METADATA, targets);
    const required = declared ?? (SAFE_METHODS.has(req.method) ? Role.Viewer : Role.Editor);
    if (!roleSatisfies(auth.principal.role, required)) {
      throw new ForbiddenException({ message: `This action needs the ${required} role`, code: 'forbidden' });
    }
    req.principal = auth.principal;
    return true;
  }
}
