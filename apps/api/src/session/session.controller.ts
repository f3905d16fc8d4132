import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Post,
  Req,
  Res,
  UnauthorizedException,
  ConflictException,
} from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { RequestAuthenticator, SESSION_COOKIE, SessionService, WebAccessPolicy } from '@app/core';
import type { Request, Response } from 'express';
import { ApiErrorResponses } from '../common/api-docs.js';
import { ErrorBodyDto } from '../common/error-body.dto.js';
import { factsOf } from '../common/request-facts.js';
import { OpenSessionDto, SessionOpenedDto, SessionStateDto } from './session.dto.js';
import { OpenRoute } from '../common/open-routes.js';

/** Browser sign-in: an API key is exchanged for an HttpOnly session cookie that the API then accepts like the key. */
@ApiTags('session')
@Controller('session')
@OpenRoute()
export class SessionController {
  constructor(
    private readonly sessions: SessionService,
    private readonly authenticator: RequestAuthenticator,
    private readonly access: WebAccessPolicy,
  ) {}

  /** Whether sign-in is needed and who the caller is; open, so a page can decide to show the sign-in form. */
  @Get()
  @ApiOkResponse({ type: SessionStateDto })
  state(@Req() req: Request): SessionStateDto {
    const auth = this.authenticator.authenticate(req.headers);
    return {
      authRequired: this.authenticator.authRequired,
      role: auth?.principal.role ?? null,
      expiresAt: auth?.expiresAt?.toISOString() ?? null,
    };
  }

  /** Checks the key and sets the `lm_session` cookie (HttpOnly, SameSite=Strict, Secure over TLS); 401 for a wrong key. */
  @Post()
  @ApiCreatedResponse({ type: SessionOpenedDto })
  @ApiUnauthorizedResponse({ type: ErrorBodyDto })
  @ApiConflictResponse({ type: ErrorBodyDto, description: 'No API keys are configured: nothing to sign in to' })
  @ApiErrorResponses(413, 415)
  open(@Body() body: OpenSessionDto, @Req() req: Request, @Res({ passthrough: true }) res: Response): SessionOpenedDto {
    if (!this.authenticator.authRequired) {
      throw new ConflictException({
        message: 'No API keys are configured: the API needs no sign-in',
        code: 'auth_not_required',
      });
    }
    const opened = this.sessions.open(body.apiKey);
    if (!opened) throw new UnauthorizedException({ message: 'This API key is not valid', code: 'invalid_api_key' });
    res.setHeader('Set-Cookie', this.cookie(req, opened.token, Math.floor(this.sessions.ttlMs / 1000)));
    return { role: opened.session.principal.role, expiresAt: opened.session.expiresAt.toISOString() };
  }

  /** Clears the cookie (the browser forgets the session; the signed token itself ends at its expiry). */
  @Delete()
  @HttpCode(204)
  @ApiNoContentResponse()
  close(@Req() req: Request, @Res({ passthrough: true }) res: Response): void {
    res.setHeader('Set-Cookie', this.cookie(req, '', 0));
  }

  private cookie(req: Request, value: string, maxAgeSeconds: number): string {
    const secure = this.access.isSecure(factsOf(req)) ? '; Secure' : '';
    return `${SESSION_COOKIE}=${value}; Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Strict${secure}`;
  }
}
