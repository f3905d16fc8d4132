import { SdImageContentType } from './sdnext.types.js';

/** The image type from its magic bytes; the server's format setting decides it, so it is never assumed. */
export function sniffImageType(bytes: Uint8Array): SdImageContentType {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return SdImageContentType.Jpeg;
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length >= 8 && png.every((b, i) => bytes[i] === b)) return SdImageContentType.Png;
  const ascii = (from: number, to: number) => String.fromCharCode(...bytes.subarray(from, to));
  if (bytes.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return SdImageContentType.Webp;
  return SdImageContentType.Unknown;
}
