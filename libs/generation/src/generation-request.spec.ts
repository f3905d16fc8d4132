import { describe, expect, it } from '@jest/globals';
import { InvalidInputError } from '@app/core';
import { type GenerationRequest, toTxt2ImgParams } from './generation-request.js';

describe(toTxt2ImgParams.name, () => {
  it('should build the txt2img body in SD.Next wire names with the checkpoint as an override', () => {
    expect(
      toTxt2ImgParams({
        prompt: 'a fox',
        steps: 12,
        seed: -1,
        batch_size: 2,
        checkpoint: 'sdxl [abc]',
        backend_id: 'sdnext-1',
      }),
    ).toEqual({
      prompt: 'a fox',
      steps: 12,
      seed: -1,
      batch_size: 2,
      send_images: true,
      save_images: false,
      override_settings: { sd_model_checkpoint: 'sdxl [abc]' },
    });
  });

  it('should list every bad field', () => {
    const bad = { prompt: 5, steps: 0, width: 513, cfg_scale: 'x', seed: 1.5 } as unknown as GenerationRequest;
    let error: unknown;
    try {
      toTxt2ImgParams(bad);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).details).toEqual([
      { field: 'prompt', message: 'must be a string' },
      { field: 'steps', message: 'must be between 1 and 150' },
      { field: 'cfg_scale', message: 'must be a number' },
      { field: 'width', message: 'must be a multiple of 8' },
      { field: 'seed', message: 'must be an integer' },
    ]);
  });
});
