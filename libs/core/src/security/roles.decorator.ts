import { SetMetadata } from '@nestjs/common';
import type { Role } from '../config/app-config.js';

export const ROLE_METADATA = 'lora-manager:role';
export const PUBLIC_METADATA = 'lora-manager:public';

/** The least role a route needs. Without it: GET/HEAD need viewer, every other method editor. */
export const RequireRole = (role: Role): MethodDecorator & ClassDecorator => SetMetadata(ROLE_METADATA, role);

/**
 * Open to anyone (health probes). Free of `@nestjs/swagger`, so that workers need not load it: API controllers use
 * `OpenRoute` (apps/api), which also gives the OpenAPI document an empty security requirement.
 */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC_METADATA, true);
