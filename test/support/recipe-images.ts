import { crc32, deflateSync } from 'node:zlib';

/** Small images carrying generation metadata the way A1111, SD.Next and ComfyUI write it, for recipe tests. */

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export function pngChunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

export const tEXt = (keyword: string, text: string): Buffer =>
  pngChunk('tEXt', Buffer.concat([Buffer.from(`${keyword}\0`, 'latin1'), Buffer.from(text, 'latin1')]));
export const iTXt = (keyword: string, text: string): Buffer =>
  pngChunk('iTXt', Buffer.concat([Buffer.from(`${keyword}\0\0\0\0\0`, 'latin1'), Buffer.from(text, 'utf8')]));
export const zTXt = (keyword: string, text: string): Buffer =>
  pngChunk('zTXt', Buffer.concat([Buffer.from(`${keyword}\0\0`, 'latin1'), deflateSync(Buffer.from(text, 'latin1'))]));

/**
 * A PNG of `width` × `height` with the text chunks after IHDR. Pixel rows are written only for small images: a
 * huge header (50,000 × 50,000) gets one tiny IDAT, as a decompression bomb's header would.
 */
export function png(width: number, height: number, texts: Buffer[] = []): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const rows =
    width * height <= 4096 ? Buffer.concat(Array<Buffer>(height).fill(Buffer.alloc(1 + width * 3))) : Buffer.alloc(1);
  return Buffer.concat([
    PNG_SIGNATURE,
    pngChunk('IHDR', ihdr),
    ...texts,
    pngChunk('IDAT', deflateSync(rows)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

export type CommentCharset = 'unicode-be' | 'unicode-le' | 'ascii';

/** An EXIF block (`Exif\0\0` + little-endian TIFF) whose Exif IFD holds one UserComment. */
export function exifWithUserComment(text: string, charset: CommentCharset): Buffer {
  const body =
    charset === 'ascii'
      ? Buffer.concat([Buffer.from('ASCII\0\0\0', 'latin1'), Buffer.from(text, 'utf8')])
      : Buffer.concat([
          Buffer.from('UNICODE\0', 'latin1'),
          charset === 'unicode-le' ? Buffer.from(text, 'utf16le') : Buffer.from(text, 'utf16le').swap16(),
        ]);
  // TIFF header (8) | IFD0: 1 entry (2 + 12 + 4) = 18 | Exif IFD: 1 entry (18) | comment
  const tiff = Buffer.alloc(8 + 18 + 18 + body.length);
  tiff.write('II', 0, 'latin1');
  tiff.writeUInt16LE(42, 2);
  tiff.writeUInt32LE(8, 4);
  tiff.writeUInt16LE(1, 8);
  tiff.writeUInt16LE(0x8769, 10); // ExifIFDPointer
  tiff.writeUInt16LE(4, 12);
  tiff.writeUInt32LE(1, 14);
  tiff.writeUInt32LE(26, 18);
  tiff.writeUInt32LE(0, 22);
  tiff.writeUInt16LE(1, 26);
  tiff.writeUInt16LE(0x9286, 28); // UserComment, UNDEFINED
  tiff.writeUInt16LE(7, 30);
  tiff.writeUInt32LE(body.length, 32);
  tiff.writeUInt32LE(44, 36);
  tiff.writeUInt32LE(0, 40);
  body.copy(tiff, 44);
  return Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
}

/** A JPEG's markers: SOI, APP1 Exif, SOF0 (size), SOS with a byte of scan data, EOI. */
export function jpegWithExif(exif: Buffer, width = 64, height = 48): Buffer {
  const segment = (marker: number, data: Buffer): Buffer => {
    const head = Buffer.from([0xff, marker, 0, 0]);
    head.writeUInt16BE(data.length + 2, 2);
    return Buffer.concat([head, data]);
  };
  const sof = Buffer.from([8, 0, 0, 0, 0, 1, 1, 0x11, 0]);
  sof.writeUInt16BE(height, 1);
  sof.writeUInt16BE(width, 3);
  return Buffer.concat([
    Buffer.from([0xff, 0xd8]),
    segment(0xe1, exif),
    segment(0xc0, sof),
    segment(0xda, Buffer.from([1, 1, 0, 0, 0x3f, 0])),
    Buffer.from([0x00, 0xff, 0xd9]),
  ]);
}

/** A WebP container: VP8X (size) and an EXIF chunk (the TIFF without the `Exif\0\0` prefix, as libwebp stores it). */
export function webpWithExif(exif: Buffer, width = 64, height = 48): Buffer {
  const riffChunk = (type: string, data: Buffer): Buffer => {
    const head = Buffer.alloc(8);
    head.write(type, 0, 'latin1');
    head.writeUInt32LE(data.length, 4);
    return Buffer.concat([head, data, data.length % 2 ? Buffer.alloc(1) : Buffer.alloc(0)]);
  };
  const vp8x = Buffer.alloc(10);
  vp8x[0] = 0x08; // EXIF flag
  vp8x.writeUIntLE(width - 1, 4, 3);
  vp8x.writeUIntLE(height - 1, 7, 3);
  const body = Buffer.concat([
    Buffer.from('WEBP', 'latin1'),
    riffChunk('VP8X', vp8x),
    riffChunk('EXIF', exif.subarray(6)),
  ]);
  const head = Buffer.alloc(8);
  head.write('RIFF', 0, 'latin1');
  head.writeUInt32LE(body.length, 4);
  return Buffer.concat([head, body]);
}

/** A ComfyUI API-format graph: checkpoint → two LoRA loaders → text encoders → KSampler. */
export function comfyPromptGraph(loras: { file: string; strength: number; modelOnly?: boolean }[]): string {
  const graph: Record<string, unknown> = {
    '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'sd_xl_base_1.0.safetensors' } },
    '5': { class_type: 'EmptyLatentImage', inputs: { width: 832, height: 1216, batch_size: 1 } },
    '6': { class_type: 'CLIPTextEncode', inputs: { text: 'a castle in the clouds', clip: ['11', 1] } },
    '7': { class_type: 'CLIPTextEncode', inputs: { text: 'lowres, watermark', clip: ['11', 1] } },
    '3': {
      class_type: 'KSampler',
      inputs: {
        seed: 42,
        steps: 28,
        cfg: 6.5,
        sampler_name: 'dpmpp_2m',
        scheduler: 'karras',
        denoise: 1,
        model: ['11', 0],
        positive: ['6', 0],
        negative: ['7', 0],
        latent_image: ['5', 0],
      },
    },
  };
  loras.forEach((l, i) => {
    graph[String(10 + i)] = {
      class_type: l.modelOnly ? 'LoraLoaderModelOnly' : 'LoraLoader',
      inputs: l.modelOnly
        ? { lora_name: l.file, strength_model: l.strength, model: ['4', 0] }
        : { lora_name: l.file, strength_model: l.strength, strength_clip: 1, model: ['4', 0], clip: ['4', 1] },
    };
  });
  return JSON.stringify(graph);
}
