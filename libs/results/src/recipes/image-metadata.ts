import { inflateSync } from 'node:zlib';
import exifReader from 'exif-reader';
import { InvalidInputError } from '@app/core';

/** Largest text chunk (or inflated zTXt/iTXt) read: an infotext naming 10,000 LoRAs is ~300 KB. */
export const MAX_METADATA_TEXT_BYTES = 2 * 1024 * 1024;

export type ImageFormat = 'png' | 'jpeg' | 'webp';

/** The text an image carries about how it was made, read from its container without decoding a pixel. */
export interface ImageMetadata {
  format: ImageFormat;
  contentType: string;
  width: number | null;
  height: number | null;
  /** A1111/SD.Next infotext: PNG `parameters`, or EXIF UserComment of JPEG/WebP. */
  parameters: string | null;
  /** ComfyUI API-format graph (`prompt` chunk). */
  comfyPrompt: string | null;
  /** ComfyUI UI-format graph (`workflow` chunk). */
  comfyWorkflow: string | null;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const CONTENT_TYPES: Record<ImageFormat, string> = { png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp' };

const notAnImage = (): InvalidInputError =>
  InvalidInputError.field('image', 'is not a PNG, JPEG or WebP image', 'not_an_image');
const truncated = (format: string): InvalidInputError =>
  InvalidInputError.field('image', `the ${format} file is truncated or damaged`, 'truncated_image');

export function imageFormatOf(bytes: Buffer): ImageFormat | null {
  if (bytes.length >= 8 && bytes.subarray(0, 8).equals(PNG_SIGNATURE)) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.length >= 12 && bytes.toString('latin1', 0, 4) === 'RIFF' && bytes.toString('latin1', 8, 12) === 'WEBP')
    return 'webp';
  return null;
}

/**
 * Reads the generation metadata of an uploaded image. Walks the container's chunks or markers only (a
 * 50,000 × 50,000 header costs nothing); throws a 400 `not_an_image` or `truncated_image` naming the `image` field.
 */
export function readImageMetadata(bytes: Buffer): ImageMetadata {
  const format = imageFormatOf(bytes);
  if (!format) throw notAnImage();
  const base = { format, contentType: CONTENT_TYPES[format], comfyPrompt: null, comfyWorkflow: null };
  if (format === 'png') return { ...base, ...readPng(bytes) };
  if (format === 'jpeg') return { ...base, ...readJpeg(bytes) };
  return { ...base, ...readWebp(bytes) };
}

function readPng(bytes: Buffer): Omit<ImageMetadata, 'format' | 'contentType'> {
  if (bytes.length < 33 || bytes.toString('latin1', 12, 16) !== 'IHDR') throw truncated('PNG');
  const out: Omit<ImageMetadata, 'format' | 'contentType'> = {
    width: bytes.readUInt32BE(16),
    height: bytes.readUInt32BE(20),
    parameters: null,
    comfyPrompt: null,
    comfyWorkflow: null,
  };
  let at = 8;
  for (;;) {
    if (at + 12 > bytes.length) throw truncated('PNG');
    const length = bytes.readUInt32BE(at);
    const type = bytes.toString('latin1', at + 4, at + 8);
    const end = at + 12 + length;
    if (end > bytes.length) throw truncated('PNG');
    if (type === 'tEXt' || type === 'iTXt' || type === 'zTXt') {
      const text = pngText(type, bytes.subarray(at + 8, at + 8 + length));
      if (text) {
        if (text.keyword === 'parameters') out.parameters ??= text.value;
        else if (text.keyword === 'prompt') out.comfyPrompt ??= text.value;
        else if (text.keyword === 'workflow') out.comfyWorkflow ??= text.value;
      }
    }
    if (type === 'IEND') return out;
    at = end;
  }
}

function inflateCapped(data: Buffer): string | null {
  try {
    return inflateSync(data, { maxOutputLength: MAX_METADATA_TEXT_BYTES }).toString('utf8');
  } catch {
    return null;
  }
}

/** One text chunk's keyword and text; null for a chunk that is not well formed or too large. */
function pngText(type: string, data: Buffer): { keyword: string; value: string } | null {
  const nul = data.indexOf(0);
  if (nul <= 0 || nul > 79) return null;
  const keyword = data.toString('latin1', 0, nul);
  const rest = data.subarray(nul + 1);
  if (type === 'tEXt')
    return rest.length > MAX_METADATA_TEXT_BYTES ? null : { keyword, value: rest.toString('latin1') };
  if (type === 'zTXt') {
    const value = inflateCapped(rest.subarray(1));
    return value === null ? null : { keyword, value };
  }
  // iTXt: compression flag, method, language\0, translated keyword\0, text
  const compressed = rest[0] === 1;
  const lang = rest.indexOf(0, 2);
  const translated = lang < 0 ? -1 : rest.indexOf(0, lang + 1);
  if (translated < 0) return null;
  const body = rest.subarray(translated + 1);
  if (compressed) {
    const value = inflateCapped(body);
    return value === null ? null : { keyword, value };
  }
  return body.length > MAX_METADATA_TEXT_BYTES ? null : { keyword, value: body.toString('utf8') };
}

function readJpeg(bytes: Buffer): Omit<ImageMetadata, 'format' | 'contentType'> {
  const out: Omit<ImageMetadata, 'format' | 'contentType'> = {
    width: null,
    height: null,
    parameters: null,
    comfyPrompt: null,
    comfyWorkflow: null,
  };
  let at = 2;
  for (;;) {
    if (at + 4 > bytes.length) throw truncated('JPEG');
    if (bytes[at] !== 0xff) throw truncated('JPEG');
    const marker = bytes[at + 1];
    if (marker === 0xff) {
      at += 1;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return out; // end of image, or start of scan: no metadata after it
    if (marker >= 0xd0 && marker <= 0xd7) {
      at += 2;
      continue;
    }
    const length = bytes.readUInt16BE(at + 2);
    const end = at + 2 + length;
    if (length < 2 || end > bytes.length) throw truncated('JPEG');
    const segment = bytes.subarray(at + 4, end);
    if (marker === 0xe1 && segment.toString('latin1', 0, 6) === 'Exif\0\0') {
      out.parameters ??= userCommentOf(segment);
    } else if (marker === 0xfe && out.parameters === null) {
      out.parameters = segment.toString('utf8');
    } else if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker) && segment.length >= 5) {
      out.height = segment.readUInt16BE(1);
      out.width = segment.readUInt16BE(3);
    }
    at = end;
  }
}

function readWebp(bytes: Buffer): Omit<ImageMetadata, 'format' | 'contentType'> {
  const out: Omit<ImageMetadata, 'format' | 'contentType'> = {
    width: null,
    height: null,
    parameters: null,
    comfyPrompt: null,
    comfyWorkflow: null,
  };
  let at = 12;
  while (at < bytes.length) {
    if (at + 8 > bytes.length) throw truncated('WebP');
    const type = bytes.toString('latin1', at, at + 4);
    const length = bytes.readUInt32LE(at + 4);
    const end = at + 8 + length + (length % 2);
    if (at + 8 + length > bytes.length) throw truncated('WebP');
    const data = bytes.subarray(at + 8, at + 8 + length);
    if (type === 'VP8X' && length >= 10) {
      out.width = data.readUIntLE(4, 3) + 1;
      out.height = data.readUIntLE(7, 3) + 1;
    } else if (type === 'VP8 ' && length >= 10 && out.width === null) {
      out.width = data.readUInt16LE(6) & 0x3fff;
      out.height = data.readUInt16LE(8) & 0x3fff;
    } else if (type === 'VP8L' && length >= 5 && out.width === null) {
      const bits = data.readUInt32LE(1);
      out.width = (bits & 0x3fff) + 1;
      out.height = ((bits >> 14) & 0x3fff) + 1;
    } else if (type === 'EXIF') {
      out.parameters ??= userCommentOf(data);
    }
    at = end;
  }
  return out;
}

/** The EXIF UserComment as text: an 8-byte charset prefix (`UNICODE\0` UCS-2, `ASCII\0\0\0`, or none), then the text. */
export function userCommentOf(exif: Buffer): string | null {
  let comment: Buffer | undefined;
  try {
    comment = exifReader(exif).Photo?.UserComment;
  } catch {
    return null;
  }
  if (!Buffer.isBuffer(comment) || comment.length === 0) return null;
  return decodeUserComment(comment);
}

export function decodeUserComment(comment: Buffer): string | null {
  const prefix = comment.toString('latin1', 0, 8);
  const body = comment.subarray(8);
  let text: string;
  if (prefix === 'UNICODE\0') {
    // A1111 (piexif) writes UTF-16 big-endian; some tools write little-endian. The first ASCII char tells.
    const bigEndian = body.length < 2 || body[0] === 0 || body[1] !== 0;
    const even = body.subarray(0, body.length - (body.length % 2));
    text = bigEndian ? Buffer.from(even).swap16().toString('utf16le') : even.toString('utf16le');
  } else if (prefix === 'ASCII\0\0\0' || prefix === '\0\0\0\0\0\0\0\0') {
    text = body.toString('utf8');
  } else {
    text = comment.toString('utf8');
  }
  text = text.replace(/\0+$/, '');
  return text.trim() ? text : null;
}
