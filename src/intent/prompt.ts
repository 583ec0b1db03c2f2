/**
 * What counts as a blank prompt: one with no visible character. Whitespace is not enough: zero-width
 * spaces and joiners, the byte-order mark, other format and control characters, variation selectors and
 * the "filler" letters that render as nothing (Hangul fillers, the blank Braille pattern) all count as blank.
 */

// \p{Cc} controls, \p{Cf} format characters (U+200B-U+200F, U+2060-U+2064, U+FEFF, tags...), \p{Z} separators,
// the fillers that render as nothing (Hangul fillers, the blank Braille pattern), then the invisible marks,
// kept out of the class because they combine: variation selectors, the combining grapheme joiner and the
// Khmer inherent vowels.
const INVISIBLE = /[\s\p{Cc}\p{Cf}\p{Z}\u115F\u1160\u2800\u3164\uFFA0]|\p{Variation_Selector}|\u034F|\u17B4|\u17B5/gu;

/** The prompt's visible characters (code points), with every invisible one removed. */
export function visibleText(prompt: string): string {
  return prompt.replace(INVISIBLE, '');
}

/** True when the prompt has no visible character (empty, whitespace, zero-width characters, ...). */
export function isBlankPrompt(prompt: string): boolean {
  return visibleText(prompt).length === 0;
}

/** Length in code points, as Python (and so pydantic's min_length on fal's side) counts a string. */
export function codePointLength(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}
