/*
 * A config needs a few dozen keys. The YAML package checks each new key of a
 * mapping against all before it (uniqueKeys): 40,000 keys took 10.6 s and
 * 101,010 past 120 s, in process, where neither the budget nor a signal can
 * end it. So a file is counted, in linear time, before it is parsed.
 */

/** The example config (every key) counts 29; this leaves room for long lists. */
export const MAX_CONFIG_ENTRIES = 1000;

/**
 * What can start a key or a list item: each line that is not blank or a
 * comment, and each `,`, `[` and `{` on such a line (a flow mapping or an
 * inline table holds its keys on one line; brackets bound the nesting).
 * Those inside strings and trailing comments count too: an overcount, never an undercount.
 */
export function configEntries(text: string): number {
  let entries = 0;
  let lineStart = true;
  let inComment = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      lineStart = true;
      inComment = false;
    } else if (lineStart && c !== 32 && c !== 9 && c !== 13) {
      lineStart = false;
      inComment = c === 35; // '#'
      if (!inComment) entries += 1;
    }
    if (!inComment && (c === 44 || c === 91 || c === 123)) entries += 1; // , [ {
  }
  return entries;
}

/** The one-line reason a config is too big to parse, or null. */
export function tooManyEntries(text: string): string | null {
  const n = configEntries(text);
  return n > MAX_CONFIG_ENTRIES
    ? `${n} entries (lines not blank or comments, and the commas and brackets on them); a config has at most ${MAX_CONFIG_ENTRIES}`
    : null;
}
