import type { ComposableAdapter } from './composable-adapter.js';
import { InvalidCompositionOptionError } from './composition-error.js';
import { stripTags } from './prompt-text.js';

/** Which words of each adapter go into the prompt. Sent over the wire, hence a string enum. */
export enum TriggerWordPolicy {
  None = 'none',
  /** The words the adapter was trained on (Civitai `trainedWords`). */
  Trained = 'trained',
  /** The user's picked trigger words, else the A1111 activation text, else the trained words. */
  Chosen = 'chosen',
}

const POLICIES: ReadonlySet<string> = new Set(Object.values(TriggerWordPolicy));

/** Narrows request input; absent means {@link TriggerWordPolicy.Chosen}. */
export function parseTriggerWordPolicy(value: unknown, field = 'triggerWords'): TriggerWordPolicy {
  if (value === undefined || value === null) return TriggerWordPolicy.Chosen;
  if (typeof value === 'string' && POLICIES.has(value)) return value as TriggerWordPolicy;
  throw new InvalidCompositionOptionError(field, `must be one of ${[...POLICIES].join(', ')}`);
}

type TriggerSource = Pick<ComposableAdapter, 'trainedWords' | 'triggerWords' | 'activationText'>;

/**
 * The words one adapter contributes under a policy. Entries are split on commas, because Civitai's
 * `trainedWords` often holds a whole tag list in one entry (`"mystyle, painterly"`).
 */
export function triggerWordsOf(adapter: TriggerSource, policy: TriggerWordPolicy): string[] {
  switch (policy) {
    case TriggerWordPolicy.None:
      return [];
    case TriggerWordPolicy.Trained:
      return splitWords(adapter.trainedWords);
    case TriggerWordPolicy.Chosen: {
      const chosen = splitWords(adapter.triggerWords);
      if (chosen.length > 0) return chosen;
      const activation = splitWords(adapter.activationText ? [adapter.activationText] : []);
      return activation.length > 0 ? activation : splitWords(adapter.trainedWords);
    }
  }
}

/**
 * The trigger words of all adapters in order, without case-insensitive repeats and without words the user's
 * own text (prefix, suffix) already holds. LoRA tags in that text are ignored: servers strip them before encoding.
 */
export function selectTriggerWords(
  adapters: readonly TriggerSource[],
  policy: TriggerWordPolicy,
  existingText: readonly string[] = [],
): string[] {
  const text = existingText.map(stripTags).join('\n');
  const seen = new Set<string>();
  const selected: string[] = [];
  for (const adapter of adapters) {
    for (const word of triggerWordsOf(adapter, policy)) {
      const key = word.toLowerCase();
      if (seen.has(key)) continue;
      seen.add(key);
      if (!containsPhrase(text, word)) selected.push(word);
    }
  }
  return selected;
}

/**
 * Whether `text` holds `phrase` as whole words, ignoring case and spacing: `cat` is in `a Cat, sitting`,
 * not in `category`.
 */
export function containsPhrase(text: string, phrase: string): boolean {
  const words = phrase.trim().split(/\s+/u).filter(Boolean);
  if (words.length === 0) return false;
  const body = words.map(escapeRegExp).join('\\s+');
  // Boundaries only where the phrase itself begins or ends with a word character, so `(masterpiece)` matches too.
  const before = /^[\p{L}\p{N}_]/u.test(words[0]) ? '(?<![\\p{L}\\p{N}_])' : '';
  const after = /[\p{L}\p{N}_]$/u.test(words[words.length - 1]) ? '(?![\\p{L}\\p{N}_])' : '';
  return new RegExp(`${before}${body}${after}`, 'iu').test(text);
}

function splitWords(entries: readonly string[] | null | undefined): string[] {
  return (entries ?? [])
    .flatMap((entry) => entry.split(','))
    .map((word) => word.trim().replace(/\s+/gu, ' '))
    .filter((word) => word.length > 0);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
