import { Dialect } from './dialect.js';
import { tokenNameProblem } from './name-resolution.js';
import { formatWeight } from './weights.js';

export interface TokenSpec {
  /** A name from `resolveTokenNames`; it must pass `tokenNameProblem`. */
  name: string;
  weight: number;
  /** Text-encoder strength when it differs from `weight`. */
  te?: number | null;
  /** UNet strength when it differs from `weight`. */
  unet?: number | null;
}

/**
 * Writes one LoRA token in the server's syntax. Always `<lora:…>`: SD.Next ignores `<lyco:…>` (§6.3).
 *
 * SD.Next (§6.3): `<lora:NAME:W>`; a different te or unet goes in named arguments. SD.Next ignores extra
 * positionals and defaults `unet` to the *effective te*, so when te differs unet is written too:
 * `<lora:NAME:W:te=T:unet=U>`; a different unet alone gives `<lora:NAME:W:unet=U>`.
 * A1111 (§6.2): positional `<lora:NAME:TE>` or `<lora:NAME:TE:UNET>`; its first multiplier is the te and unet
 * defaults to it, so W only appears through te/unet.
 */
export function buildToken(dialect: Dialect, spec: TokenSpec): string {
  const problem = tokenNameProblem(spec.name);
  if (problem !== null) throw new RangeError(`cannot write a LoRA token: ${problem}`);
  const weight = formatWeight(spec.weight);
  const te = formatWeight(spec.te ?? spec.weight);
  const unet = formatWeight(spec.unet ?? spec.weight);
  const items = [spec.name];
  switch (dialect) {
    case Dialect.SdNext:
      items.push(weight);
      if (te !== weight) items.push(`te=${te}`, `unet=${unet}`);
      else if (unet !== weight) items.push(`unet=${unet}`);
      break;
    case Dialect.A1111:
      items.push(te);
      if (unet !== te) items.push(unet);
      break;
  }
  return `<lora:${items.join(':')}>`;
}
