import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { DomainError, DomainErrorKind } from '@app/core';
import type { Response } from 'express';
import type { ErrorBodyDto } from './error-body.dto.js';
import { RequestValidationException } from './validation.js';

const statusByKind: Record<DomainErrorKind, number> = {
  [DomainErrorKind.Invalid]: HttpStatus.BAD_REQUEST,
  [DomainErrorKind.NotFound]: HttpStatus.NOT_FOUND,
  [DomainErrorKind.Conflict]: HttpStatus.CONFLICT,
  [DomainErrorKind.Forbidden]: HttpStatus.FORBIDDEN,
  [DomainErrorKind.Upstream]: HttpStatus.BAD_GATEWAY,
  [DomainErrorKind.UpstreamTimeout]: HttpStatus.GATEWAY_TIMEOUT,
  [DomainErrorKind.Unavailable]: HttpStatus.SERVICE_UNAVAILABLE,
  [DomainErrorKind.Unprocessable]: HttpStatus.UNPROCESSABLE_ENTITY,
};

const codeByStatus: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'too_many_requests',
  503: 'unavailable',
};

const reason = (status: number): string =>
  (HttpStatus[status] ?? 'Error')
    .toLowerCase()
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join(' ');

/** Driver errors that mean "the database is not reachable right now": a 503, not a 500. */
function isDatabaseUnavailable(error: unknown): boolean {
  const e = error as { code?: string; message?: string; name?: string };
  const code = e?.code ?? '';
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', '57P01', '57P03', '08006', '08001', '08003', 'SQLITE_BUSY'].includes(
      code,
    ) || /Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect/i.test(e?.message ?? '')
  );
}

/** The one error filter: every error leaves as `{ statusCode, error, message, code, details? }`. */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') return;
    const res = host.switchToHttp().getResponse<Response>();
    const body = this.toBody(exception);
    if (body.statusCode >= 500 && body.code === 'internal_error') {
      this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    }
    if (res.headersSent) return;
    res.status(body.statusCode).json(body);
  }

  private toBody(exception: unknown): ErrorBodyDto {
    if (exception instanceof RequestValidationException) {
      return {
        statusCode: 400,
        error: 'Bad Request',
        message: exception.message,
        code: 'validation_failed',
        details: exception.fields,
      };
    }
    if (exception instanceof DomainError) {
      const statusCode = statusByKind[exception.kind];
      return {
        statusCode,
        error: reason(statusCode),
        message: exception.message,
        code: exception.code,
        details: exception.details,
      };
    }
    if (exception instanceof HttpException) {
      const statusCode = exception.getStatus();
      const response = exception.getResponse();
      const raw = typeof response === 'string' ? response : (response as { message?: unknown }).message;
      const message = Array.isArray(raw)
        ? raw.map(String).join('; ')
        : typeof raw === 'string'
          ? raw
          : exception.message;
      const code =
        typeof response === 'object' && typeof (response as { code?: unknown }).code === 'string'
          ? (response as { code: string }).code
          : (codeByStatus[statusCode] ?? (statusCode >= 500 ? 'internal_error' : 'error'));
      return { statusCode, error: reason(statusCode), message, code };
    }
    if (isDatabaseUnavailable(exception)) {
      return {
        statusCode: 503,
        error: 'Service Unavailable',
        message: 'The database is not reachable; try again shortly',
        code: 'database_unavailable',
      };
    }
    // A JSON body that does not parse comes from body-parser as a plain error with a status.
    const status = (exception as { status?: unknown; type?: unknown })?.status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      const type = (exception as { type?: unknown }).type;
      return {
        statusCode: status,
        error: reason(status),
        message: type === 'entity.parse.failed' ? 'Request body is not valid JSON' : (exception as Error).message,
        code: type === 'entity.parse.failed' ? 'invalid_json' : (codeByStatus[status] ?? 'bad_request'),
      };
    }
    return {
      statusCode: 500,
      error: 'Internal Server Error',
      message: 'An unexpected error occurred',
      code: 'internal_error',
    };
  }
}
