import { ApiProperty } from '@nestjs/swagger';
import { IsNotEmpty, IsString, MaxLength } from 'class-validator';
import { Role } from '@app/core';
import { ApiDateTime } from '../common/api-docs.js';

export class OpenSessionDto {
  /** One of the configured API keys; the session gets its role. The key is not stored in the cookie. */
  @IsString()
  @IsNotEmpty()
  @MaxLength(1024)
  apiKey: string;
}

export class SessionOpenedDto {
  role: Role;
  /** When the session cookie stops being accepted (ISO 8601). */
  @ApiDateTime()
  expiresAt: string;
}

export class SessionStateDto {
  /** API keys are configured: a browser must sign in (`POST /session`) before anything else. */
  authRequired: boolean;
  /** The caller's role (from the session cookie or a key header; `admin` when no keys are configured), or null. */
  @ApiProperty({ enum: [...Object.values(Role), null], nullable: true, type: String })
  role: Role | null;
  /** When the caller's session ends; null for key headers, open access or no session. */
  @ApiDateTime({ nullable: true })
  expiresAt: string | null;
}
