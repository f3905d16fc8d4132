import { describe, expect, it } from '@jest/globals';
import { deflateSync, crc32 } from 'node:zlib';
import { imageSizeOf, readPngInfotext, withPngInfotext } from './image-facts.js';
import { buildInfotext, loraTokensOf } from './infotext.js';

function chunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

function png(width: number, height: number, extra: Buffer[] = []): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const row = Buffer.alloc(1 + width * 3);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    ...extra,
    chunk('IDAT', deflateSync(Buffer.concat(Array<Buffer>(height).fill(row)))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Every chunk's CRC checks out. */
function crcsValid(bytes: Buffer): boolean {
  for (let at = 8; at < bytes.length;) {
    const length = bytes.readUInt32BE(at);
    if (crc32(bytes.subarray(at + 4, at + 8 + length)) !== bytes.readUInt32BE(at + 8 + length)) return false;
    at += 12 + length;
  }
  return true;
}

describe('withPngInfotext', () => {
  it('should replace the backend infotext with ours, keep the pixels and write valid CRCs', () => {
    const theirs = chunk('tEXt', Buffer.from('parameters\0old text', 'latin1'));
    const other = chunk('tEXt', Buffer.from('Software\0fake', 'latin1'));
    const source = png(16, 8, [theirs, other]);
    const out = withPngInfotext(source, 'a fox\nSteps: 20')!;
    expect(readPngInfotext(out)).toBe('a fox\nSteps: 20');
    expect(out.includes(Buffer.from('old text'))).toBe(false);
    expect(out.includes(Buffer.from('Software\0fake'))).toBe(true);
    expect(crcsValid(out)).toBe(true);
    expect(imageSizeOf(out)).toEqual({ width: 16, height: 8 });
  });

  it('should write UTF-8 text that is not Latin-1 as iTXt and read it back', () => {
    const out = withPngInfotext(png(8, 8), '狐 ✨ <lora:名前:1>')!;
    expect(out.includes(Buffer.from('iTXt'))).toBe(true);
    expect(readPngInfotext(out)).toBe('狐 ✨ <lora:名前:1>');
  });

  it('should leave a truncated or foreign file alone', () => {
    expect(withPngInfotext(png(8, 8).subarray(0, 40), 'x')).toBeNull();
    expect(withPngInfotext(Buffer.from('GIF89a......'), 'x')).toBeNull();
  });
});

describe('buildInfotext', () => {
  it('should write the A1111 parameter line with Lora hashes of the resolved LoRAs', () => {
    const text = buildInfotext({
      prompt: 'a fox <lora:alpha:0.8>',
      negativePrompt: 'blurry',
      steps: 20,
      sampler: 'DPM++ 2M, Karras',
      cfgScale: 7,
      seed: 42,
      width: 512,
      height: 768,
      model: 'sdxl_base',
      loras: [
        { adapterId: 'x', name: 'alpha', weight: 0.8, sha256: null, autov2: 'abcdef0123', baseModel: null },
        { adapterId: null, name: 'unknown', weight: 1, sha256: null, autov2: null, baseModel: null },
      ],
    });
    expect(text).toBe(
      'a fox <lora:alpha:0.8>\nNegative prompt: blurry\n' +
        'Steps: 20, Sampler: "DPM++ 2M, Karras", CFG scale: 7, Seed: 42, Size: 512x768, Model: sdxl_base, ' +
        'Lora hashes: "alpha: abcdef0123"',
    );
  });

  it('should read each LoRA token once, with its weight', () => {
    expect(loraTokensOf('<lora:a:0.5> x <lora:b:1:te=0.2> <LORA:a:0.9> <lyco:c:bad>')).toEqual([
      { name: 'a', weight: 0.5 },
      { name: 'b', weight: 1 },
      { name: 'c', weight: 1 },
    ]);
  });
});
