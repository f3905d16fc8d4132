import { deflateSync } from 'node:zlib';

// 8×8 baseline JFIF JPEG made with cjpeg (libjpeg-turbo) and checked with djpeg; base64 starts `/9j/4AAQ`.
const TINY_JPEG_BASE64 =
  '/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAMCAgMCAgMDAwMEAwMEBQgFBQQEBQoHBwYIDAoMDAsKCwsNDhIQDQ4RDgsLEBYQERMUFRUVDA8XGB' +
  'YUGBIUFRT/2wBDAQMEBAUEBQkFBQkUDQsNFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBT/wAARCAAI' +
  'AAgDASIAAhEBAxEB/8QAFQABAQAAAAAAAAAAAAAAAAAAAAb/xAAUEAEAAAAAAAAAAAAAAAAAAAAA/8QAFAEBAAAAAAAAAAAAAAAAAAAABv/EAB' +
  'QRAQAAAAAAAAAAAAAAAAAAAAD/2gAMAwEAAhEDEQA/AI8AaIH/2Q==';

// 8×8 lossy WebP made with cwebp and checked with dwebp.
const TINY_WEBP_BASE64 = 'UklGRjAAAABXRUJQVlA4ICQAAABQAQCdASoIAAgAAUAmJQBOgCgAAP7qZf4d3N161utcrVo4AAA=';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** A valid 8×8 RGB PNG; `parameters` is stored like A1111/SD.Next do (tEXt, or iTXt when not Latin-1). */
export function tinyPng(parameters?: string): Buffer {
  const size = 8;
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // bit depth 8, colour type RGB, no interlace
  const row = Buffer.alloc(1 + size * 3);
  for (let x = 0; x < size; x++) row.set([0x7f, 0x6a, 0x55], 1 + x * 3);
  const chunks = [pngChunk('IHDR', ihdr), pngChunk('IDAT', deflateSync(Buffer.concat(Array(size).fill(row))))];
  if (parameters !== undefined) {
    const latin1 = [...parameters].every((c) => c.charCodeAt(0) <= 0xff);
    chunks.push(
      latin1
        ? pngChunk('tEXt', Buffer.concat([Buffer.from('parameters\0', 'latin1'), Buffer.from(parameters, 'latin1')]))
        : pngChunk('iTXt', Buffer.concat([Buffer.from('parameters\0\0\0\0\0', 'latin1'), Buffer.from(parameters)])),
    );
  }
  chunks.push(pngChunk('IEND', Buffer.alloc(0)));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), ...chunks]);
}

/**
 * A valid 8×8 JPEG. With `userComment`, an EXIF APP1 segment carries it as UserComment (`UNICODE\0` + UTF-16BE,
 * as piexif writes it for SD.Next), inserted after the JFIF header so the base64 still starts `/9j/4AAQ`.
 */
export function tinyJpeg(userComment?: string): Buffer {
  const jpeg = Buffer.from(TINY_JPEG_BASE64, 'base64');
  if (userComment === undefined) return jpeg;
  const text = Buffer.from(userComment, 'utf16le').swap16();
  const comment = Buffer.concat([Buffer.from('UNICODE\0', 'latin1'), text]);
  const tiff = Buffer.alloc(44);
  tiff.write('MM\0\x2a', 0, 'latin1');
  tiff.writeUInt32BE(8, 4); // IFD0 offset
  tiff.writeUInt16BE(1, 8); // IFD0: one entry, the Exif IFD pointer
  tiff.writeUInt16BE(0x8769, 10);
  tiff.writeUInt16BE(4, 12);
  tiff.writeUInt32BE(1, 14);
  tiff.writeUInt32BE(26, 18);
  tiff.writeUInt32BE(0, 22);
  tiff.writeUInt16BE(1, 26); // Exif IFD: one entry, UserComment (UNDEFINED)
  tiff.writeUInt16BE(0x9286, 28);
  tiff.writeUInt16BE(7, 30);
  tiff.writeUInt32BE(comment.length, 32);
  tiff.writeUInt32BE(44, 36);
  tiff.writeUInt32BE(0, 40);
  const payload = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff, comment]);
  if (payload.length + 2 > 0xffff) return jpeg; // an infotext too long for one segment is simply left out
  const head = Buffer.from([0xff, 0xe1, 0, 0]);
  head.writeUInt16BE(payload.length + 2, 2);
  const afterJfif = 2 + 2 + jpeg.readUInt16BE(4); // SOI + APP0 marker + APP0 length
  return Buffer.concat([jpeg.subarray(0, afterJfif), head, payload, jpeg.subarray(afterJfif)]);
}

/** A valid 8×8 lossy WebP (no metadata). */
export function tinyWebp(): Buffer {
  return Buffer.from(TINY_WEBP_BASE64, 'base64');
}
