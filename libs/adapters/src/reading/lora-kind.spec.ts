import { describe, expect, it } from '@jest/globals';
import { CIVITAI_TYPE_BY_KIND, LoraKind, LoraKindSource, detectKindFromTensors, detectLoraKind } from './lora-kind.js';

const t = (name: string, shape: number[] = [4, 4]) => ({ name, shape });
const MOD = 'lora_unet_down_blocks_1_attentions_0_proj_in';

describe(detectKindFromTensors.name, () => {
  it.each([
    [[`${MOD}.lora_down.weight`, `${MOD}.lora_up.weight`, `${MOD}.alpha`], LoraKind.LoRA],
    [[`${MOD}.lora_down.weight`, `${MOD}.lora_up.weight`, `${MOD}.dora_scale`], LoraKind.DoRA],
    [[`${MOD}.hada_w1_a`, `${MOD}.hada_w1_b`, `${MOD}.hada_w2_a`, `${MOD}.alpha`], LoraKind.LoHa],
    [[`${MOD}.lokr_w1`, `${MOD}.lokr_w2`], LoraKind.LoKr],
    [[`${MOD}.lokr_w1_a`, `${MOD}.lokr_w1_b`, `${MOD}.lokr_w2`], LoraKind.LoKr],
    [[`${MOD}.diff`, `${MOD}.diff_b`], LoraKind.Full],
    [[`${MOD}.on_input`, `${MOD}.weight`], LoraKind.IA3],
    [[`${MOD}.w_norm`, `${MOD}.b_norm`], LoraKind.Norm],
    [[`${MOD}.oft_blocks`], LoraKind.OFT],
    [['transformer.blocks.0.attn.to_q.lora_A.weight', 'transformer.blocks.0.attn.to_q.lora_B.weight'], LoraKind.LoRA],
    [['unet.down.0.to_q.lora.down.weight', 'unet.down.0.to_q.lora.up.weight'], LoraKind.LoRA],
    [['model.diffusion_model.input_blocks.1.weight'], LoraKind.Unknown],
    [[], LoraKind.Unknown],
  ])('should classify %j as %s', (names, kind) => {
    expect(detectKindFromTensors(names.map((n) => t(n)))).toBe(kind);
  });

  it('should prefer LoKr over norm layers trained alongside it', () => {
    expect(detectKindFromTensors([t(`${MOD}.w_norm`), t(`${MOD}.lokr_w1`)])).toBe(LoraKind.LoKr);
  });

  it('should call a LoRA with k×k convolutions (k > 1) a LoCon, but not one with 1×1 projections', () => {
    const conv1 = [t(`${MOD}.lora_down.weight`, [4, 320, 1, 1]), t(`${MOD}.lora_up.weight`, [320, 4, 1, 1])];
    expect(detectKindFromTensors(conv1)).toBe(LoraKind.LoRA);
    const conv3 = [...conv1, t('lora_unet_down_blocks_0_resnets_0_conv1.lora_down.weight', [4, 320, 3, 3])];
    expect(detectKindFromTensors(conv3)).toBe(LoraKind.LoCon);
  });
});

describe(detectLoraKind.name, () => {
  const lora = [t(`${MOD}.lora_down.weight`), t(`${MOD}.lora_up.weight`)];

  it('should take the kind from ss_network_module', () => {
    expect(detectLoraKind(lora, { ss_network_module: 'networks.lora' })).toMatchObject({
      kind: LoraKind.LoRA,
      source: LoraKindSource.NetworkModule,
      networkModule: 'networks.lora',
    });
    expect(detectLoraKind(lora, { ss_network_module: 'networks.lora_flux' }).kind).toBe(LoraKind.LoRA);
    expect(detectLoraKind(lora, { ss_network_module: 'networks.dylora' }).kind).toBe(LoraKind.DyLoRA);
    expect(detectLoraKind(lora, { ss_network_module: 'networks.oft' }).kind).toBe(LoraKind.OFT);
  });

  it('should call networks.lora with conv_dim a LoCon', () => {
    const info = detectLoraKind(lora, {
      ss_network_module: 'networks.lora',
      ss_network_args: '{"conv_dim": "8", "conv_alpha": "1"}',
    });
    expect(info.kind).toBe(LoraKind.LoCon);
    expect(info.networkArgs).toEqual({ conv_dim: '8', conv_alpha: '1' });
  });

  it('should read the algo of lycoris.kohya from ss_network_args', () => {
    const info = detectLoraKind(lora, {
      ss_network_module: 'lycoris.kohya',
      ss_network_args: '{"algo": "LoHa", "conv_dim": "4"}',
    });
    expect(info).toMatchObject({ kind: LoraKind.LoHa, source: LoraKindSource.NetworkArgs, algo: 'loha' });
  });

  it('should fall back to the tensor names when the module is missing or lycoris without algo', () => {
    expect(detectLoraKind([t(`${MOD}.hada_w1_a`)], {})).toMatchObject({
      kind: LoraKind.LoHa,
      source: LoraKindSource.Tensors,
    });
    expect(
      detectLoraKind([t(`${MOD}.lokr_w1`)], { ss_network_module: 'lycoris.kohya', ss_network_args: 'not json' }).kind,
    ).toBe(LoraKind.LoKr);
    expect(detectLoraKind([t('x.weight')], {})).toMatchObject({ kind: LoraKind.Unknown, source: LoraKindSource.None });
  });

  it('should call a dora_scale tensor or dora_wd arg DoRA whatever the module says', () => {
    expect(detectLoraKind([...lora, t(`${MOD}.dora_scale`)], { ss_network_module: 'networks.lora' }).kind).toBe(
      LoraKind.DoRA,
    );
    expect(
      detectLoraKind(lora, {
        ss_network_module: 'lycoris.kohya',
        ss_network_args: '{"algo": "lora", "dora_wd": "True"}',
      }).kind,
    ).toBe(LoraKind.DoRA);
  });

  it('should map every kind to a Civitai type spelling', () => {
    expect(CIVITAI_TYPE_BY_KIND[LoraKind.LoRA]).toBe('LORA');
    expect(CIVITAI_TYPE_BY_KIND[LoraKind.DoRA]).toBe('DoRA');
    expect(CIVITAI_TYPE_BY_KIND[LoraKind.LoHa]).toBe('LoCon');
    expect(CIVITAI_TYPE_BY_KIND[LoraKind.Unknown]).toBeUndefined();
  });
});
