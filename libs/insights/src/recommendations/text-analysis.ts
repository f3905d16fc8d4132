/** Words too common in prompts and descriptions to say anything about an adapter. */
const STOPWORDS = new Set(
  (
    'a an and are as at be by for from has have in is it its of on or that the this to was were will with ' +
    'lora loras lycoris locon model models version v1 v2 v3 use used using your you can not no very best ' +
    'quality masterpiece high highres detailed ultra 8k 4k'
  ).split(' '),
);

/** Lower-case words of two or more letters or digits, stopwords dropped (`Tokens` keep their order). */
export function tokenize(text: string | null | undefined): string[] {
  if (!text) return [];
  const out: string[] = [];
  for (const match of text.toLowerCase().matchAll(/[\p{L}\p{N}]+/gu)) {
    const word = match[0];
    if (word.length < 2 || word.length > 40 || STOPWORDS.has(word) || /^\d+$/.test(word)) continue;
    out.push(word);
  }
  return out;
}

/** A trigger word or tag as one comparable phrase: lower case, single spaces, no punctuation at the ends. */
export function normalisePhrase(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/**
 * The words of a prompt that can name an adapter: `<lora:…>` tags and their weights removed, attention brackets
 * and `word:1.2` weights stripped.
 */
export function promptText(prompt: string): string {
  return prompt.replace(/<[^>]*>/g, ' ').replace(/:\s*-?\d+(\.\d+)?/g, ' ');
}

/** Where a term of an adapter came from, and how much it counts. */
export enum TermField {
  Name = 'name',
  Trigger = 'trigger',
  Tag = 'tag',
  Creator = 'creator',
  Description = 'description',
}

export const FIELD_WEIGHTS: Readonly<Record<TermField, number>> = {
  [TermField.Trigger]: 3,
  [TermField.Name]: 2.5,
  [TermField.Tag]: 2,
  [TermField.Creator]: 1,
  [TermField.Description]: 0.5,
};

/** The text of one adapter the recommender reads. */
export interface AdapterText {
  id: string;
  name: string;
  description: string | null;
  tags: readonly string[];
  trainedWords: readonly string[];
  triggerWords: readonly string[];
  creator: string | null;
  baseModel: string;
}

/** Term → weighted frequency over the fields of one adapter, and the fields each term came from. */
export function adapterTerms(doc: AdapterText): Map<string, number> {
  const terms = new Map<string, number>();
  const add = (text: string | null | undefined, field: TermField): void => {
    for (const word of tokenize(text)) terms.set(word, (terms.get(word) ?? 0) + FIELD_WEIGHTS[field]);
  };
  add(doc.name, TermField.Name);
  for (const word of triggerPhrases(doc)) add(word, TermField.Trigger);
  for (const tag of doc.tags) add(tag, TermField.Tag);
  add(doc.creator, TermField.Creator);
  // Long descriptions must not drown the short fields: only their first 2,000 characters count.
  add(doc.description?.slice(0, 2000), TermField.Description);
  return terms;
}

/** Trigger and trained words, each once, as normalised phrases. */
export function triggerPhrases(doc: Pick<AdapterText, 'trainedWords' | 'triggerWords'>): string[] {
  const phrases = new Set<string>();
  for (const word of [...doc.triggerWords, ...doc.trainedWords]) {
    const phrase = normalisePhrase(word);
    if (phrase) phrases.add(phrase);
  }
  return [...phrases];
}
