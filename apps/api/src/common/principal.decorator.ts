import { createParamDecorator, type ExecutionContext, ForbiddenException } from '@nestjs/common';
import type { Principal } from '@app/core';
import type { Request } from 'express';

/** The caller as the API key guard identified it (`req.principal`); for routes whose rules depend on the role. */
export const CurrentPrincipal = createParamDecorator((_data: unknown, context: ExecutionContext): Principal => {
  const req = context.switchToHttp().getRequest<Request & { principal?: Principal }>();
  if (!req.principal)
    throw new ForbiddenException({ message: 'No caller identity on this request', code: 'forbidden' });
  return req.principal;
});
