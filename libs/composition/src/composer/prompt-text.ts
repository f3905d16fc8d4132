/**
 * Both servers' extra-network tag, `re_extra_net = r"<(\w+):([^>]+)>"` (SDNEXT.md §6.1). Python's `\w` is
 * Unicode-aware, JavaScript's is not, hence the property classes.
 */
export const EXTRA_NETWORK_TAG_SOURCE = '<([\\p{L}\\p{N}_]+):([^>]+)>';

export function extraNetworkTagPattern(): RegExp {
  return new RegExp(EXTRA_NETWORK_TAG_SOURCE, 'gu');
}

/** Removes every `<type:args>` tag the way the servers do before encoding, then tidies what is left. */
export function stripTags(text: string): string {
  return tidyPrompt(text.replace(extraNetworkTagPattern(), ''));
}

/**
 * Collapses the debris that removing tags or joining parts leaves: runs of spaces, empty comma items
 * (`a, , b`), spaces before commas, and commas or spaces at the ends of lines.
 */
export function tidyPrompt(text: string): string {
  return text
    .split(/\r?\n/u)
    .map((line) =>
      line
        .replace(/[ \t]+/gu, ' ')
        .replace(/ ,/gu, ',')
        .replace(/,( ?,)+/gu, ',')
        .replace(/^[ ,]+|[ ,]+$/gu, ''),
    )
    .join('\n')
    .replace(/\n{3,}/gu, '\n\n')
    .trim();
}

/** Joins prompt parts with `separator`, dropping empty parts and the stray commas at their edges. */
export function joinPromptParts(parts: readonly (string | null | undefined)[], separator = ', '): string {
  return parts
    .map((part) => (part ?? '').trim().replace(/^[\s,]+|[\s,]+$/gu, ''))
    .filter((part) => part.length > 0)
    .join(separator);
}
