import { DomainError, DomainErrorKind } from '@app/core';
import { SdNextErrorKind } from './sdnext/index.js';

/** A synchronous generation that did not produce images: 502, 504 on a timeout, 400 when SD.Next rejected the input. */
export class GenerationFailedError extends DomainError {
  constructor(
    readonly jobId: string,
    reason: string,
    sdNextKind?: SdNextErrorKind,
  ) {
    super(kindOf(sdNextKind), codeOf(sdNextKind), reason, { jobId });
  }
}

function kindOf(kind: SdNextErrorKind | undefined): DomainErrorKind {
  switch (kind) {
    case SdNextErrorKind.Timeout:
      return DomainErrorKind.UpstreamTimeout;
    case SdNextErrorKind.Validation:
    case SdNextErrorKind.BadRequest:
    case SdNextErrorKind.NotFound:
      return DomainErrorKind.Invalid;
    default:
      return DomainErrorKind.Upstream;
  }
}

function codeOf(kind: SdNextErrorKind | undefined): string {
  switch (kind) {
    case SdNextErrorKind.Timeout:
      return 'sdnext_timeout';
    case SdNextErrorKind.Unreachable:
      return 'sdnext_unreachable';
    case SdNextErrorKind.Validation:
    case SdNextErrorKind.BadRequest:
    case SdNextErrorKind.NotFound:
      return 'sdnext_rejected_request';
    case SdNextErrorKind.EmptyResult:
      return 'sdnext_no_images';
    case SdNextErrorKind.ResponseTooLarge:
      return 'sdnext_response_too_large';
    default:
      return 'sdnext_failed';
  }
}
