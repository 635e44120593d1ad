/*
 * The regular expressions a keep pattern may use, parsed to a tree that
 * tag-pattern.ts turns into a linear-time matcher. Only what has the same
 * meaning as in JavaScript's RegExp (no flags) and stays regular: no
 * backreferences, no lookarounds, no \b. Anything else is refused with the
 * reason, never guessed at.
 */

/** One UTF-16 code unit: is it in the set? */
export type CharTest = (c: number) => boolean;

export type PatternNode =
  | { kind: 'char'; test: CharTest }
  | { kind: 'seq'; items: PatternNode[] }
  | { kind: 'alt'; items: PatternNode[] }
  | { kind: 'repeat'; node: PatternNode; min: number; max: number }
  | { kind: 'start' }
  | { kind: 'end' };

/** A pattern outside the supported subset; the message is the reason, for one line. */
export class PatternRefused extends Error {
  override name = 'PatternRefused';
}

/** `{n,m}` counts above this are refused: spelled out, they would make the matcher large. */
export const MAX_REPEAT = 100;

const between =
  (lo: number, hi: number): CharTest =>
  (c) =>
    c >= lo && c <= hi;
const anyOf =
  (...tests: CharTest[]): CharTest =>
  (c) =>
    tests.some((t) => t(c));
const not =
  (t: CharTest): CharTest =>
  (c) =>
    !t(c);
const code = (ch: string) => ch.charCodeAt(0);

const DIGIT = between(48, 57);
const WORD = anyOf(DIGIT, between(65, 90), between(97, 122), (c) => c === 95);
/** JavaScript's \s: WhiteSpace and LineTerminator. */
const SPACE: CharTest = (c) =>
  (c >= 9 && c <= 13) ||
  c === 0x20 ||
  c === 0xa0 ||
  c === 0x1680 ||
  (c >= 0x2000 && c <= 0x200a) ||
  c === 0x2028 ||
  c === 0x2029 ||
  c === 0x202f ||
  c === 0x205f ||
  c === 0x3000 ||
  c === 0xfeff;
/** `.` without the s flag: anything but a line terminator. */
const DOT = not((c) => c === 10 || c === 13 || c === 0x2028 || c === 0x2029);

const CLASS_ESCAPES: Record<string, CharTest> = {
  d: DIGIT,
  D: not(DIGIT),
  w: WORD,
  W: not(WORD),
  s: SPACE,
  S: not(SPACE),
};
const CONTROL_ESCAPES: Record<string, number> = { t: 9, n: 10, v: 11, f: 12, r: 13 };

/** Parse `source` (refusing with PatternRefused); the whole syntax is checked again by `new RegExp` at load. */
export function parseTagPattern(source: string): PatternNode {
  const p = { s: source, i: 0 };
  const node = alternation(p);
  if (p.i < p.s.length) throw new PatternRefused(p.s[p.i] === ')' ? 'unmatched )' : `unexpected ${p.s[p.i]}`);
  return node;
}

interface Cursor {
  s: string;
  i: number;
}

function alternation(p: Cursor): PatternNode {
  const items = [sequence(p)];
  while (p.s[p.i] === '|') {
    p.i += 1;
    items.push(sequence(p));
  }
  return items.length === 1 ? items[0]! : { kind: 'alt', items };
}

function sequence(p: Cursor): PatternNode {
  const items: PatternNode[] = [];
  while (p.i < p.s.length && p.s[p.i] !== '|' && p.s[p.i] !== ')') {
    const a = atom(p);
    items.push(quantified(p, a));
  }
  return { kind: 'seq', items };
}

/** Sample: `[0-9]+`, `x{2,5}?`, `(ab)*`: a quantifier (lazy or not, the same strings match) after an atom. */
function quantified(p: Cursor, node: PatternNode): PatternNode {
  const q = quantifier(p);
  if (!q) return node;
  if (node.kind === 'start' || node.kind === 'end') throw new PatternRefused('nothing to repeat before a quantifier');
  if (p.s[p.i] === '?') p.i += 1;
  if (quantifier({ ...p })) throw new PatternRefused('nothing to repeat before a quantifier');
  return { kind: 'repeat', node, min: q.min, max: q.max };
}

// Sample: `{3}`, `{2,}`, `{1,64}` at the cursor.
const BRACES = /^\{(\d+)(,(\d*))?\}/;

function quantifier(p: Cursor): { min: number; max: number } | null {
  const ch = p.s[p.i];
  if (ch === '*' || ch === '+' || ch === '?') {
    p.i += 1;
    return { min: ch === '+' ? 1 : 0, max: ch === '?' ? 1 : Infinity };
  }
  if (ch !== '{') return null;
  const m = BRACES.exec(p.s.slice(p.i));
  if (!m) throw new PatternRefused('a literal { must be escaped as \\{');
  const min = Number(m[1]);
  const max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
  if (min > max) throw new PatternRefused(`{${m[1]},${m[3]}}: the counts are out of order`);
  if (min > MAX_REPEAT || (max !== Infinity && max > MAX_REPEAT))
    throw new PatternRefused(`${m[0]}: counts above ${MAX_REPEAT} are not supported`);
  p.i += m[0].length;
  return { min, max };
}

function atom(p: Cursor): PatternNode {
  const ch = p.s[p.i]!;
  p.i += 1;
  switch (ch) {
    case '^':
      return { kind: 'start' };
    case '$':
      return { kind: 'end' };
    case '.':
      return { kind: 'char', test: DOT };
    case '(':
      return group(p);
    case '[':
      return { kind: 'char', test: charClass(p) };
    case '\\':
      return { kind: 'char', test: escape(p, false) };
    case '*':
    case '+':
    case '?':
      throw new PatternRefused('nothing to repeat before a quantifier');
    case '{':
    case '}':
    case ']':
      throw new PatternRefused(`a literal ${ch} must be escaped as \\${ch}`);
    default: {
      const c = code(ch);
      return { kind: 'char', test: (x) => x === c };
    }
  }
}

// Sample: `(?<tag>` at the cursor, after `(`.
const NAMED = /^\?<([A-Za-z_$][\w$]*)>/;

function group(p: Cursor): PatternNode {
  const rest = p.s.slice(p.i);
  if (rest.startsWith('?:')) p.i += 2;
  else if (rest.startsWith('?=') || rest.startsWith('?!'))
    throw new PatternRefused('lookahead (?= or (?! is not supported');
  else if (rest.startsWith('?<=') || rest.startsWith('?<!'))
    throw new PatternRefused('lookbehind (?<= or (?<! is not supported');
  else if (NAMED.test(rest)) p.i += NAMED.exec(rest)![0].length;
  else if (rest.startsWith('?')) throw new PatternRefused('this kind of group (? is not supported');
  const node = alternation(p);
  if (p.s[p.i] !== ')') throw new PatternRefused('unterminated group: a ( without its )');
  p.i += 1;
  return node;
}

/** After `\`: a class escape, a control character, or a punctuation character meant literally. */
function escape(p: Cursor, inClass: boolean): CharTest {
  const ch = p.s[p.i];
  if (ch === undefined) throw new PatternRefused('\\ at the end of the pattern');
  p.i += 1;
  if (CLASS_ESCAPES[ch]) return CLASS_ESCAPES[ch];
  const control = CONTROL_ESCAPES[ch] ?? (inClass && ch === 'b' ? 8 : undefined);
  if (control !== undefined) return (c) => c === control;
  if (/[1-9]/.test(ch)) throw new PatternRefused(`backreference \\${ch} is not supported`);
  if (ch === 'b' || ch === 'B') throw new PatternRefused(`word boundary \\${ch} is not supported`);
  // \0, \x41, \u0041, \cA, \k<…>, \p{…}: refused rather than half-supported.
  if (/[0-9A-Za-z]/.test(ch)) throw new PatternRefused(`escape \\${ch} is not supported`);
  const c = code(ch);
  return (x) => x === c;
}

/** After `[`: `[a-z0-9._-]`, `[^/]`, `[\w.]`; `[]` matches nothing and `[^]` anything, as in JavaScript. */
function charClass(p: Cursor): CharTest {
  const negated = p.s[p.i] === '^';
  if (negated) p.i += 1;
  const members: CharTest[] = [];
  while (p.s[p.i] !== ']') {
    if (p.i >= p.s.length) throw new PatternRefused('unterminated character class: a [ without its ]');
    const from = classMember(p);
    if (p.s[p.i] === '-' && p.s[p.i + 1] !== ']' && p.i + 1 < p.s.length) {
      p.i += 1;
      const to = classMember(p);
      if (typeof from !== 'number' || typeof to !== 'number')
        throw new PatternRefused('a range in [ ] needs single characters at both ends');
      if (from > to) throw new PatternRefused('a range in [ ] is out of order');
      members.push(between(from, to));
    } else {
      members.push(typeof from === 'number' ? (c) => c === from : from);
    }
  }
  p.i += 1;
  const inSet = anyOf(...members);
  return negated ? not(inSet) : inSet;
}

/** One member: a code unit, or a class escape's set. */
function classMember(p: Cursor): number | CharTest {
  const ch = p.s[p.i]!;
  p.i += 1;
  if (ch !== '\\') return code(ch);
  const before = p.i;
  const test = escape(p, true);
  const escaped = p.s[before]!;
  if (CLASS_ESCAPES[escaped]) return test;
  return escaped === 'b' ? 8 : (CONTROL_ESCAPES[escaped] ?? code(escaped));
}
