import { imageTypeOf } from '@app/adapters';
import { SdImageContentType } from './sdnext.types.js';

const SERVER_TYPES: ReadonlySet<string> = new Set(Object.values(SdImageContentType));

/**
 * The image type from its magic bytes (`imageTypeOf`); the server's format setting decides it, so it is never
 * assumed. Types an SD.Next server does not send as images count as unknown.
 */
export function sniffImageType(bytes: Uint8Array): SdImageContentType {
  const type = imageTypeOf(bytes);
  return type !== undefined && SERVER_TYPES.has(type) ? (type as SdImageContentType) : SdImageContentType.Unknown;
}
