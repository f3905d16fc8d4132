import { Injectable, Optional } from '@nestjs/common';
import { type AdapterEntity, AdapterRepository } from '@app/adapters';
import { InvalidInputError } from '@app/core';
import type { ComposableAdapter } from './composer/composable-adapter.js';
import {
  type AdapterSelection,
  type CompositionResult,
  type CompositionWarning,
  CompositionWarningCode,
  composePrompt,
} from './composer/composer.js';
import { Dialect, parseDialect } from './composer/dialect.js';
import { type ParsedPrompt, parsePrompt } from './composer/parser.js';
import { LoraNameSource } from './lora-name-source.js';

export interface ComposeRequest {
  /** Explicit adapters; when empty, the active adapters in ordinal order (at most `MAX_ACTIVE_COMPOSED`). */
  adapters?: AdapterSelection[];
  prefix?: string;
  suffix?: string;
  negative?: string;
  dialect?: string;
  triggerWords?: string;
  weightCap?: number;
  checkpointBaseModel?: string;
  /** Check the tokens against this backend's LoRA list (`sdnext-0`, …) when it is reachable. */
  checkBackend?: string;
}

export interface ComposeOutcome extends CompositionResult {
  /** The backend whose LoRA list the tokens were checked against, or null when none was. */
  checkedAgainst: string | null;
}

/** Most active adapters a default composition takes; a prompt with more LoRAs than this is not useful. */
export const MAX_ACTIVE_COMPOSED = 100;

export function toComposable(a: AdapterEntity): ComposableAdapter {
  return {
    id: a.id,
    name: a.name,
    rootId: a.rootId,
    relativePath: a.relativePath,
    ssOutputName: a.loraAlias,
    baseModel: a.baseModel,
    trainedWords: a.trainedWords ?? [],
    triggerWords: a.triggerWords ?? [],
    activationText: a.activationText,
    preferredWeight: a.preferredWeight,
    minWeight: a.weightMin,
    maxWeight: a.weightMax,
    nsfwLevel: a.nsfwOverride ?? a.nsfwLevel,
    missingSince: a.missingSince,
    sha256: a.sha256,
  };
}

/** Composes prompts from the library with tokens the target generator really resolves. */
@Injectable()
export class CompositionService {
  constructor(
    private readonly adapters: AdapterRepository,
    @Optional() private readonly names?: LoraNameSource,
  ) {}

  async compose(request: ComposeRequest): Promise<ComposeOutcome> {
    const dialect = parseDialect(request.dialect ?? null, 'dialect');
    const selected = request.adapters ?? [];
    const chosen =
      selected.length > 0
        ? await this.adapters.findByIds(selected.map((s) => s.id))
        : await this.adapters.findActiveInOrder(MAX_ACTIVE_COMPOSED);
    const truncation = selected.length === 0 ? await this.activeSetTruncation(chosen.length) : undefined;
    // Every live file that claims the same token name, so ambiguous names are caught.
    const claimants = await this.adapters.findNameClaimants(
      chosen.flatMap((a) => [a.loraStem, a.loraName, ...(a.loraAlias ? [a.loraAlias] : [])]),
    );
    const library = new Map<string, ComposableAdapter>();
    for (const a of [...chosen, ...claimants]) library.set(a.id, toComposable(a));

    let backendLoraNames: string[] | null = null;
    let checkedAgainst: string | null = null;
    if (request.checkBackend !== undefined) {
      if (!this.names || !this.names.backendIds().includes(request.checkBackend)) {
        throw InvalidInputError.field(
          'checkBackend',
          `unknown backend; configured: ${this.names?.backendIds().join(', ') || 'none'}`,
        );
      }
      backendLoraNames = await this.names.loraNames(request.checkBackend);
      if (backendLoraNames) checkedAgainst = request.checkBackend;
    }

    const result = composePrompt(
      {
        adapters: selected.length > 0 ? selected : null,
        activeInOrder: selected.length > 0 ? null : chosen.map(toComposable),
        prefix: request.prefix,
        suffix: request.suffix,
        negative: request.negative,
        dialect,
        triggerWords: request.triggerWords,
        weightCap: request.weightCap,
        checkpointBaseModel: request.checkpointBaseModel,
        backendLoraNames,
      },
      [...library.values()],
    );
    return { ...result, warnings: truncation ? [...result.warnings, truncation] : result.warnings, checkedAgainst };
  }

  /** A warning when the active set holds more adapters than a composition takes (`taken` = the limit). */
  private async activeSetTruncation(taken: number): Promise<CompositionWarning | undefined> {
    if (taken < MAX_ACTIVE_COMPOSED) return undefined;
    const active = await this.adapters.countActive();
    if (active <= taken) return undefined;
    return {
      code: CompositionWarningCode.ActiveSetTruncated,
      message:
        `${active} adapters are active; a composition without \`adapters\` takes the first ${MAX_ACTIVE_COMPOSED} ` +
        `in their order, so ${active - taken} were left out: pass \`adapters\`, or deactivate some`,
    };
  }

  parse(prompt: string, dialect?: string): ParsedPrompt & { dialect: Dialect } {
    const d = parseDialect(dialect ?? null, 'dialect');
    return { ...parsePrompt(prompt, d), dialect: d };
  }
}
