/**
 * Strings from the system (paths, names, labels, tool output) are hostile.
 * `inline` makes one safe to place anywhere on a markdown line or in a table
 * cell: it cannot end the line, start a `#` header, break a table, open a
 * code span, or carry control characters or terminal escapes.
 */

const MAX_INLINE = 160;

// C0 controls, DEL, C1 controls (ESC, CSI 0x9b…), line/paragraph separators,
// bidi overrides and isolates (they reorder what the reader sees).
const UNSAFE_CHARS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;
// Markdown punctuation that can change structure mid-line.
const MARKDOWN_CHARS = /[\\`|*_[\]<>#]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

export function inline(value: string, max = MAX_INLINE): string {
  const clipped = [...value].length > max ? `${[...value].slice(0, max - 1).join('')}…` : value;
  return clipped
    .replace(MARKDOWN_CHARS, (c) => `\\${c}`)
    .replace(UNSAFE_CHARS, (c) => NAMED[c] ?? `\\u{${c.codePointAt(0)!.toString(16)}}`);
}

/** A hostile string shown as a path/name: escaped; empty shown as a dash. */
export function cell(value: string | undefined): string {
  return value === undefined || value === '' ? '—' : inline(value);
}

/**
 * A code span for text that may hold backticks (a command, a path): backslash
 * escapes are literal inside code spans, so instead of escaping, control
 * characters are shown as escapes and the fence is longer than any backtick
 * run inside. Pipes are still escaped: a table splits cells before it reads spans.
 */
export function code(value: string, max = MAX_INLINE): string {
  const clipped = [...value].length > max ? `${[...value].slice(0, max - 1).join('')}…` : value;
  const text = clipped
    .replace(UNSAFE_CHARS, (c) => NAMED[c] ?? `\\u{${c.codePointAt(0)!.toString(16)}}`)
    .replace(/\|/g, '\\|');
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(longest + 1);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

/** POSIX shell single-quoting, for paths placed in suggested commands. */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, "'\\''")}'`;
}
