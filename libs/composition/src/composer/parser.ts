import { Dialect } from './dialect.js';
import { extraNetworkTagPattern, tidyPrompt } from './prompt-text.js';
import { DEFAULT_WEIGHT } from './weights.js';

/** SD.Next step schedule `v@step[,v@step…]` (§6.3); steps ≤ 1 are fractions of the run. */
export interface StepSchedule {
  raw: string;
  /** Sorted by step, as SD.Next interpolates them. */
  points: { weight: number; step: number }[];
}

/** A strength as the server reads it: a number, or a schedule (SD.Next only). */
export type Multiplier = number | StepSchedule;

export enum ParseWarningCode {
  /** A multiplier the server cannot read. SD.Next falls back to 1 for the positional one; A1111 applies no LoRA. */
  InvalidNumber = 'invalid_number',
  /** A tag without a name (`<lora:te=1>`): the server fails on it. */
  MissingName = 'missing_name',
  /** A tag the server strips without applying (`<lyco:…>` on SD.Next). */
  IgnoredTag = 'ignored_tag',
}

export interface ParseWarning {
  code: ParseWarningCode;
  message: string;
  /** Index into `tokens`. */
  tokenIndex: number;
}

export interface ParsedTag {
  /** The tag type (`lora`, `lyco`, `hypernet`, …). */
  type: string;
  /** The first positional argument. */
  name: string;
  /** Whether this server applies the tag as a LoRA (SD.Next: `lora`; A1111: `lora` and `lyco`). */
  isLora: boolean;
  /** The positional multiplier (1 when absent); null when the server cannot read it. */
  weight: Multiplier | null;
  /** Effective text-encoder strength. */
  te: Multiplier | null;
  /** Effective UNet strength (SD.Next block weights `in=`/`mid=`/`out=` stay in `named`). */
  unet: Multiplier | null;
  /** `dyn` when given; null when the server cannot read it. */
  dyn?: number | null;
  /** Items with exactly one `=`. A null-prototype record: keys come from user text. */
  named: Record<string, string>;
  positional: string[];
  raw: string;
  /** Offsets of `raw` in the prompt (UTF-16 code units, end exclusive). */
  start: number;
  end: number;
}

export interface ParsedPrompt {
  tokens: ParsedTag[];
  /** The prompt as the server encodes it: tags removed, whitespace and commas tidied. */
  text: string;
  warnings: ParseWarning[];
}

/**
 * Extracts every `<type:args>` tag like both servers (§6.1): args split on `:`, an item with exactly one `=`
 * is named, the rest positional. Strengths follow the dialect: SD.Next (§6.3) reads only the first positional
 * multiplier and named te/unet (unet defaulting to the effective te), with schedules; A1111 (§6.2) reads
 * positional te:unet:dyn and named te/unet/dyn.
 */
export function parsePrompt(prompt: string | null | undefined, dialect: Dialect = Dialect.SdNext): ParsedPrompt {
  const source = prompt ?? '';
  const tokens: ParsedTag[] = [];
  const warnings: ParseWarning[] = [];
  for (const match of source.matchAll(extraNetworkTagPattern())) {
    const tokenIndex = tokens.length;
    const warn = (code: ParseWarningCode, message: string) => warnings.push({ code, message, tokenIndex });
    const [raw, type, args] = match;
    const { named, positional } = splitArguments(args);
    const isLora = type === 'lora' || (dialect === Dialect.A1111 && type === 'lyco');
    // Warnings only for tags the server applies as LoRAs; other networks have their own argument rules.
    const reader = new MultiplierReader(dialect, raw, isLora ? warn : () => undefined);
    const strengths = dialect === Dialect.SdNext ? reader.sdNext(named, positional) : reader.a1111(named, positional);
    if (isLora && positional.length === 0) warn(ParseWarningCode.MissingName, `${raw} has no name`);
    if (type === 'lyco' && dialect === Dialect.SdNext) {
      warn(ParseWarningCode.IgnoredTag, `SD.Next strips ${raw} without applying it; write <lora:…>`);
    }
    tokens.push({
      type,
      name: positional[0] ?? '',
      isLora,
      ...strengths,
      named,
      positional,
      raw,
      start: match.index,
      end: match.index + raw.length,
    });
  }
  return { tokens, text: tidyPrompt(source.replace(extraNetworkTagPattern(), '')), warnings };
}

/** Python's `ExtraNetworkParams`: `item.split('=', 2)` with exactly two parts is named. */
export function splitArguments(args: string): { named: Record<string, string>; positional: string[] } {
  const named = Object.create(null) as Record<string, string>;
  const positional: string[] = [];
  for (const item of args.split(':')) {
    const parts = item.split('=');
    if (parts.length === 2) named[parts[0]] = parts[1];
    else positional.push(item);
  }
  return { named, positional };
}

const PY_FLOAT = /^[+-]?(?:(?:\d(?:_?\d)*)?\.\d(?:_?\d)*|\d(?:_?\d)*\.?)(?:[eE][+-]?\d(?:_?\d)*)?$/u;
const PY_FLOAT_WORD = /^([+-]?)(inf|infinity|nan)$/iu;
const PY_INT = /^[+-]?\d(?:_?\d)*$/u;

/** Python's `float(text)`, or null where Python raises `ValueError`. */
export function parsePythonFloat(text: string): number | null {
  const s = text.trim();
  const word = PY_FLOAT_WORD.exec(s);
  if (word) return word[2].toLowerCase() === 'nan' ? NaN : word[1] === '-' ? -Infinity : Infinity;
  return PY_FLOAT.test(s) ? Number(s.replaceAll('_', '')) : null;
}

/** Python's `int(text)`, or null where Python raises `ValueError`. */
export function parsePythonInt(text: string): number | null {
  const s = text.trim();
  return PY_INT.test(s) ? Number(s.replaceAll('_', '')) : null;
}

/**
 * SD.Next's `get_stepwise` parse: entries split on `,`/`;`, each `value@step` (or `~`). A first entry without
 * a step makes the whole value a plain number. Null when a part is not a number (SD.Next raises).
 */
export function parseStepSchedule(text: string): Multiplier | null {
  const entries: number[][] = [];
  for (const entry of text.split(/[,;]/u)) {
    const parts = entry.split(/[@~]/u).map(parsePythonFloat);
    if (parts.some((p) => p === null)) return null;
    entries.push(parts as number[]);
  }
  if (entries[0].length === 1) return entries[0][0];
  const points = entries.map((p) => ({ weight: p[0], step: p.length === 2 ? p[1] : 1 }));
  points.sort((a, b) => a.step - b.step);
  return { raw: text, points };
}

type Strengths = Pick<ParsedTag, 'weight' | 'te' | 'unet' | 'dyn'>;
type Warn = (code: ParseWarningCode, message: string) => void;

class MultiplierReader {
  constructor(
    private readonly dialect: Dialect,
    private readonly raw: string,
    private readonly warn: Warn,
  ) {}

  /** `extra_networks_lora.parse` in SD.Next. */
  sdNext(named: Record<string, string>, positional: string[]): Strengths {
    let weight: Multiplier | null = DEFAULT_WEIGHT;
    if (positional.length > 1) {
      const text = positional[1];
      const value = parsePythonFloat(text);
      if (value !== null) weight = value;
      else if (text.includes('@')) weight = this.schedule(text, 'multiplier');
      else if (text !== 'high' && text !== 'low') {
        this.warn(ParseWarningCode.InvalidNumber, `${this.raw}: SD.Next reads multiplier "${text}" as the default 1`);
      }
    }
    const te = 'te' in named ? this.sdNextValue(named.te, 'te') : weight;
    const unet = 'unet' in named ? this.sdNextValue(named.unet, 'unet') : te;
    for (const block of ['in', 'mid', 'out']) if (block in named) this.sdNextValue(named[block], block);
    const strengths: Strengths = { weight, te, unet };
    if ('dyn' in named) strengths.dyn = this.int(named.dyn, 'dyn');
    return strengths;
  }

  /** `extra_networks_lora.py activate` in A1111; every read is `float()`/`int()`, which raise on bad input. */
  a1111(named: Record<string, string>, positional: string[]): Strengths {
    const weight = positional.length > 1 ? this.float(positional[1], 'multiplier') : DEFAULT_WEIGHT;
    const te = 'te' in named ? this.float(named.te, 'te') : weight;
    let unet = positional.length > 2 ? this.float(positional[2], 'unet') : te;
    if ('unet' in named) unet = this.float(named.unet, 'unet');
    const strengths: Strengths = { weight, te, unet };
    if (positional.length > 3) strengths.dyn = this.int(positional[3], 'dyn');
    if ('dyn' in named) strengths.dyn = this.int(named.dyn, 'dyn');
    return strengths;
  }

  private sdNextValue(text: string, what: string): Multiplier | null {
    if (text.includes('@')) return this.schedule(text, what);
    return this.float(text, what);
  }

  private schedule(text: string, what: string): Multiplier | null {
    const value = parseStepSchedule(text);
    if (value === null) this.invalid(text, what);
    return value;
  }

  private float(text: string, what: string): number | null {
    const value = parsePythonFloat(text);
    if (value === null) this.invalid(text, what);
    return value;
  }

  private int(text: string, what: string): number | null {
    const value = parsePythonInt(text);
    if (value === null) this.invalid(text, what);
    return value;
  }

  private invalid(text: string, what: string): void {
    const consequence =
      this.dialect === Dialect.A1111 ? 'A1111 raises and applies no LoRA' : 'SD.Next fails to load it';
    this.warn(ParseWarningCode.InvalidNumber, `${this.raw}: ${what} "${text}" is not a number; ${consequence}`);
  }
}
