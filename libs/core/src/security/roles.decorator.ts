import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiSecurity } from '@nestjs/swagger';
import type { Role } from '../config/app-config.js';

export const ROLE_METADATA = 'lora-manager:role';
export const PUBLIC_METADATA = 'lora-manager:public';

/** The least role a route needs. Without it: GET/HEAD need viewer, every other method editor. */
export const RequireRole = (role: Role): MethodDecorator & ClassDecorator => SetMetadata(ROLE_METADATA, role);

/** Open to anyone (health probes); the OpenAPI document says so with an empty security requirement. */
export const Public = (): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata(PUBLIC_METADATA, true), ApiSecurity({}));
