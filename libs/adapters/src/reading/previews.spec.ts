import { describe, expect, it } from '@jest/globals';
import { PreviewTier, findPreview, listPreviews, previewContentType } from './previews.js';

describe(findPreview.name, () => {
  it('should prefer <stem>.<ext>, then .preview, then .thumb', () => {
    expect(findPreview(['a.thumb.jpg', 'a.preview.png', 'a.png'], 'a')).toEqual({
      fileName: 'a.png',
      contentType: 'image/png',
      tier: PreviewTier.Plain,
      isVideo: false,
    });
    expect(findPreview(['a.thumb.jpg', 'a.preview.png'], 'a')?.fileName).toBe('a.preview.png');
    expect(findPreview(['a.thumb.jpg'], 'a')).toMatchObject({ tier: PreviewTier.Thumb, contentType: 'image/jpeg' });
  });

  it('should prefer still images over videos within a tier, and webp/png over jpeg', () => {
    expect(findPreview(['a.mp4', 'a.jpeg', 'a.webp'], 'a')?.fileName).toBe('a.webp');
    expect(findPreview(['a.mp4', 'a.gif'], 'a')?.fileName).toBe('a.gif');
    expect(findPreview(['a.webm'], 'a')).toMatchObject({ contentType: 'video/webm', isVideo: true });
    expect(listPreviews(['a.mp4', 'a.preview.png', 'a.jpg'], 'a').map((p) => p.fileName)).toEqual([
      'a.jpg',
      'a.mp4',
      'a.preview.png',
    ]);
  });

  it('should match extensions case-insensitively and not confuse similar stems', () => {
    expect(findPreview(['a.PNG'], 'a')).toMatchObject({ fileName: 'a.PNG', contentType: 'image/png' });
    expect(findPreview(['ab.png', 'a.b.png', 'a.safetensors'], 'a')).toBeUndefined();
    expect(findPreview(['my.lora.v1.0.jpg'], 'my.lora.v1.0')?.fileName).toBe('my.lora.v1.0.jpg');
  });
});

describe(previewContentType.name, () => {
  it('should give content types by extension', () => {
    expect(
      ['x.webp', 'x.JPG', 'x.jpeg', 'x.avif', 'x.jxl', 'x.tif', 'x.jp2', 'x.mp4', 'x.txt', 'noext'].map(
        previewContentType,
      ),
    ).toEqual([
      'image/webp',
      'image/jpeg',
      'image/jpeg',
      'image/avif',
      'image/jxl',
      'image/tiff',
      'image/jp2',
      'video/mp4',
      undefined,
      undefined,
    ]);
  });
});
