import { z } from 'zod';

// Text every boundary accepts: what a person types and another reads.

/**
 * Characters that cannot be stored or shown safely. Bidirectional overrides, isolates and
 * marks reorder what a reviewer reads ("Trojan Source"); U+2028/2029 break lines where a
 * line was promised; noncharacters and tag characters (U+E0000–E007F, invisible ASCII
 * look-alikes) carry text no one sees.
 */
const BIDI_CONTROL = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/u;
// eslint-disable-next-line no-control-regex -- control characters are what these two refuse.
const CONTROL_ONE_LINE = /[\u0000-\u001F\u007F-\u009F]/u;
/** Free text keeps tab, line feed and carriage return. */
// eslint-disable-next-line no-control-regex -- as above.
const CONTROL_MULTI_LINE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/u;
const HIDDEN_OR_RESERVED = /[\u2028\u2029\p{Noncharacter_Code_Point}\u{E0000}-\u{E007F}]/u;
/** Renders as nothing: whitespace, format characters (zero-width space, joiners, BOM …), Hangul fillers, the blank Braille pattern. */
const INVISIBLE = /^[\p{White_Space}\p{Cf}\p{M}\u115F\u1160\u3164\uFFA0\u2800]*$/u;
/** More combining marks on one character than any script needs ("Zalgo" text spills over the lines around it). */
const STACKED_MARKS = /\p{M}{9,}/u;

const graphemes = new Intl.Segmenter('und', { granularity: 'grapheme' });

/** What a reader sees: characters (grapheme clusters) that render as more than blank space. */
export function visibleLength(value: string): number {
  let count = 0;
  for (const { segment } of graphemes.segment(value)) if (!INVISIBLE.test(segment)) count++;
  return count;
}

/** Why `value` cannot be stored or shown safely, or undefined when it can. */
export function unsafeTextReason(value: string, multiline: boolean): string | undefined {
  if (!(value as string & { isWellFormed(): boolean }).isWellFormed()) return 'is not well-formed Unicode (a lone surrogate)';
  if (value.includes('\u0000')) return 'contains a NUL character';
  if ((multiline ? CONTROL_MULTI_LINE : CONTROL_ONE_LINE).test(value)) {
    return multiline ? 'contains a control character (only tab, line feed and carriage return are allowed)' : 'contains a control character';
  }
  if (BIDI_CONTROL.test(value)) return 'contains a bidirectional-text control character (U+202A–202E, U+2066–2069, U+200E, U+200F, U+061C)';
  if (HIDDEN_OR_RESERVED.test(value)) return 'contains a line separator, a noncharacter or an invisible tag character';
  // What a decoder leaves of bytes that were not UTF-8 (a lone surrogate in a URL arrives so).
  if (value.includes('\uFFFD')) return 'contains U+FFFD: the text was not valid UTF-8';
  if (STACKED_MARKS.test(value)) return 'stacks too many combining marks on one character';
  if (value.length > 0 && visibleLength(value) === 0) return 'contains only invisible characters';
  return undefined;
}

/**
 * Every text field the API accepts goes through this: well-formed Unicode without NUL,
 * controls (tab and line breaks only in multi-line free text), bidi controls or anything
 * else that hides or reorders text, trimmed, and, with `min`, at least that many visible
 * characters, so that ten zero-width spaces are not a justification.
 */
export function safeText(options: { max: number; min?: number; minMessage?: string; multiline?: boolean }) {
  const { max, min = 0, multiline = false } = options;
  const minMessage = options.minMessage ?? `at least ${min} visible characters`;
  // .min() states the length in the OpenAPI document; the refinement counts what is seen.
  return z
    .string()
    .trim()
    .min(min, minMessage)
    .max(max, `at most ${max} characters`)
    .superRefine((value, ctx) => {
      const unsafe = unsafeTextReason(value, multiline);
      if (unsafe) ctx.addIssue({ code: 'custom', message: unsafe });
      else if (value.length >= min && visibleLength(value) < min) ctx.addIssue({ code: 'custom', message: minMessage });
    });
}
