import { crc32 } from 'node:zlib';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Keyword under which A1111, SD.Next and the tools that read them keep the generation infotext. */
export const INFOTEXT_KEYWORD = 'parameters';
const TEXT_CHUNKS = new Set(['tEXt', 'iTXt', 'zTXt']);

interface PngChunk {
  type: string;
  /** Offset of the chunk's length field. */
  start: number;
  /** Offset just past its CRC. */
  end: number;
  data: Buffer;
}

/** The chunks of a PNG, or null when the bytes are not a well-formed one (bad signature, truncated chunk). */
function pngChunks(png: Buffer): PngChunk[] | null {
  if (png.length < 8 || !png.subarray(0, 8).equals(PNG_SIGNATURE)) return null;
  const chunks: PngChunk[] = [];
  let at = 8;
  while (at + 12 <= png.length) {
    const length = png.readUInt32BE(at);
    const end = at + 12 + length;
    if (end > png.length) return null;
    const type = png.toString('latin1', at + 4, at + 8);
    chunks.push({ type, start: at, end, data: png.subarray(at + 8, at + 8 + length) });
    at = end;
    if (type === 'IEND') return chunks;
  }
  return null;
}

function chunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

const isLatin1 = (text: string): boolean => [...text].every((c) => c.charCodeAt(0) <= 0xff);

function keywordOf(c: PngChunk): string {
  const nul = c.data.indexOf(0);
  return nul < 0 ? '' : c.data.toString('latin1', 0, nul);
}

/**
 * The PNG with its infotext set to `text`: any `parameters` text chunk is replaced by one `tEXt` (Latin-1, as A1111
 * writes it) or `iTXt` (UTF-8, when the text is not Latin-1) right after `IHDR`. Null when the bytes are not a PNG.
 */
export function withPngInfotext(png: Buffer, text: string): Buffer | null {
  const chunks = pngChunks(png);
  if (!chunks || chunks[0]?.type !== 'IHDR') return null;
  const payload = isLatin1(text)
    ? chunk('tEXt', Buffer.concat([Buffer.from(`${INFOTEXT_KEYWORD}\0`, 'latin1'), Buffer.from(text, 'latin1')]))
    : chunk('iTXt', Buffer.concat([Buffer.from(`${INFOTEXT_KEYWORD}\0\0\0\0\0`, 'latin1'), Buffer.from(text, 'utf8')]));
  const kept = chunks.filter((c) => !(TEXT_CHUNKS.has(c.type) && keywordOf(c) === INFOTEXT_KEYWORD));
  const parts: Buffer[] = [PNG_SIGNATURE];
  for (const c of kept) {
    parts.push(png.subarray(c.start, c.end));
    if (c.type === 'IHDR') parts.push(payload);
  }
  return Buffer.concat(parts);
}

/** The `parameters` infotext of a PNG (tEXt or uncompressed iTXt), or null. */
export function readPngInfotext(png: Buffer): string | null {
  for (const c of pngChunks(png) ?? []) {
    if (!TEXT_CHUNKS.has(c.type) || keywordOf(c) !== INFOTEXT_KEYWORD) continue;
    const rest = c.data.subarray(INFOTEXT_KEYWORD.length + 1);
    if (c.type === 'tEXt') return rest.toString('latin1');
    if (c.type === 'iTXt' && rest[0] === 0) {
      // compression flag, method, language tag\0, translated keyword\0, text
      const lang = rest.indexOf(0, 2);
      const translated = lang < 0 ? -1 : rest.indexOf(0, lang + 1);
      if (translated >= 0) return rest.subarray(translated + 1).toString('utf8');
    }
  }
  return null;
}

export interface ImageSize {
  width: number;
  height: number;
}

function pngSize(bytes: Buffer): ImageSize | null {
  if (bytes.length < 24 || !bytes.subarray(0, 8).equals(PNG_SIGNATURE) || bytes.toString('latin1', 12, 16) !== 'IHDR')
    return null;
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

/** JPEG: the first start-of-frame marker (SOF0–SOF15 but DHT, JPG and DAC) holds height then width. */
function jpegSize(bytes: Buffer): ImageSize | null {
  let at = 2;
  while (at + 9 < bytes.length) {
    if (bytes[at] !== 0xff) return null;
    const marker = bytes[at + 1];
    if (marker === 0xff) {
      at += 1;
      continue;
    }
    const length = bytes.readUInt16BE(at + 2);
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
      return { height: bytes.readUInt16BE(at + 5), width: bytes.readUInt16BE(at + 7) };
    }
    at += 2 + length;
  }
  return null;
}

function webpSize(bytes: Buffer): ImageSize | null {
  if (bytes.length < 30 || bytes.toString('latin1', 0, 4) !== 'RIFF' || bytes.toString('latin1', 8, 12) !== 'WEBP')
    return null;
  const kind = bytes.toString('latin1', 12, 16);
  if (kind === 'VP8 ') return { width: bytes.readUInt16LE(26) & 0x3fff, height: bytes.readUInt16LE(28) & 0x3fff };
  if (kind === 'VP8L') {
    const bits = bytes.readUInt32LE(21);
    return { width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 };
  }
  if (kind === 'VP8X') return { width: bytes.readUIntLE(24, 3) + 1, height: bytes.readUIntLE(27, 3) + 1 };
  return null;
}

/** Width and height from the image's own header (PNG, JPEG, WebP), or null when it cannot be read. */
export function imageSizeOf(bytes: Buffer): ImageSize | null {
  return pngSize(bytes) ?? jpegSize(bytes) ?? webpSize(bytes);
}
