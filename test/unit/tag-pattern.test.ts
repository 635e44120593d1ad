import { describe, expect, it } from 'vitest';
import { MAX_TAG_LENGTH, compileTagPattern, matchesTag } from '../../src/model/remediation/tag-pattern.js';
import { protectedByPattern } from '../../src/model/remediation/policy.js';

const matches = (source: string, text: string) => matchesTag(compileTagPattern(source), text);

/** A small seeded generator: the same patterns every run. */
function generator(seed: number) {
  let s = seed;
  const pick = <T>(xs: readonly T[]): T => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return xs[s % xs.length]!;
  };
  const atoms = [
    'a',
    'b',
    '.',
    '[ab]',
    '[^a]',
    '\\d',
    '\\w',
    '\\W',
    '-',
    '/',
    ':',
    '\\.',
    '[a-c0-9]',
    '[\\d-]',
    '1',
    '()',
  ];
  const pattern = (depth: number): string => {
    const k = pick([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    if (depth > 3 || k < 4) return pick(atoms);
    if (k < 6) return pattern(depth + 1) + pattern(depth + 1);
    if (k < 7) return `(${pattern(depth + 1)}|${pattern(depth + 1)})`;
    if (k < 8) return `(?:${pattern(depth + 1)})${pick(['*', '+', '?', '{2}', '{1,3}', '{0,}', '*?', '+?'])}`;
    return k < 9 ? `^${pattern(depth + 1)}` : `${pattern(depth + 1)}$`;
  };
  const text = () => Array.from({ length: pick([0, 1, 2, 3, 5, 8]) }, () => pick([...'ab1-/:.xA '])).join('');
  return { pattern, text };
}

describe('keep patterns (linear-time matcher)', () => {
  it.each([
    ['^registry\\.example\\.com/base/', 'registry.example.com/base/node:20', true],
    ['^registry\\.example\\.com/base/', 'evil.com/registry.example.com/base/x:1', false],
    [':(latest|stable)$', 'app:stable', true],
    [':(latest|stable)$', 'app:stable-1', false],
    ['^[a-f0-9]{12}$', 'deadbeef0123', true],
    ['^pf-unused:', 'pf-unused:1', true],
    ['[^]', 'x', true],
    ['[]', 'x', false],
    ['^$', '', true],
  ])('%s on %s: %s, as RegExp says', (source, text, expected) => {
    expect(matches(source, text)).toBe(expected);
    expect(new RegExp(source).test(text)).toBe(expected);
  });

  it('answers as RegExp does on generated patterns and tags', () => {
    const { pattern, text } = generator(7);
    for (let i = 0; i < 3000; i += 1) {
      const source = pattern(0);
      const compiled = compileTagPattern(source);
      const re = new RegExp(source);
      for (let j = 0; j < 10; j += 1) {
        const t = text();
        expect(matchesTag(compiled, t), `${source} on ${JSON.stringify(t)}`).toBe(re.test(t));
      }
    }
  });

  it('matches the pattern that backtracked for 107 s without backtracking', () => {
    // 41 characters: RegExp would try 2^40 ways; here each character is one step over 13 instructions.
    expect(matches('^(a+)+$', `${'a'.repeat(40)}!`)).toBe(false);
    expect(matches('^(a+)+$', 'a'.repeat(MAX_TAG_LENGTH))).toBe(true);
  });

  it.each([
    ['(a)\\1', 'backreference \\1 is not supported'],
    ['(?=a)b', 'lookahead (?= or (?! is not supported'],
    ['(?<!a)b', 'lookbehind (?<= or (?<! is not supported'],
    ['\\bfoo', 'word boundary \\b is not supported'],
    ['\\x41', 'escape \\x is not supported'],
    ['a{', 'a literal { must be escaped as \\{'],
    ['a**', 'nothing to repeat before a quantifier'],
    ['(a', 'unterminated group: a ( without its )'],
    ['a)', 'unmatched )'],
    ['[a', 'unterminated character class: a [ without its ]'],
    ['[\\d-z]', 'a range in [ ] needs single characters at both ends'],
    ['a{101}', '{101}: counts above 100 are not supported'],
    ['((a{100}){100})', 'too large once its repeats are spelled out (over 500 steps)'],
    ['x'.repeat(257), 'longer than 256 characters'],
  ])('refuses %s: %s', (source, reason) => {
    expect(() => compileTagPattern(source)).toThrow(reason);
  });

  it('keeps an image whose tag is longer than Docker allows: no pattern can be trusted on it', () => {
    const keep = [compileTagPattern('^base/')];
    expect(protectedByPattern(['base/x:1'], keep)).toBe('^base/');
    expect(protectedByPattern(['other/x:1'], keep)).toBeNull();
    expect(protectedByPattern([`other/${'x'.repeat(MAX_TAG_LENGTH)}`], keep)).toBe('^base/');
    expect(protectedByPattern([`other/${'x'.repeat(MAX_TAG_LENGTH)}`], [])).toBeNull();
  });
});
