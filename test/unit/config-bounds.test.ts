import { describe, expect, it } from 'vitest';
import { MAX_CONFIG_ENTRIES, configEntries, tooManyEntries } from '../../src/config/bounds.js';

describe('configEntries: what is counted before a config is parsed', () => {
  it.each([
    ['', 0],
    ['# only a comment\n\n   \n', 0],
    ['disk_threshold: 80\nremediation:\n  target_pct: 70\n', 3],
    ['paths: [/a, /b, /c]  # a, b, c\n', 6],
    ['{a: 1, b: {c: 2}}\n', 4],
    ['[remediation]\nkeep_labels = ["a", "b"]\n', 5],
  ])('%j counts %i', (text, n) => {
    expect(configEntries(text)).toBe(n);
  });

  it('refuses past the limit with one line, whatever holds the keys', () => {
    const lines = Array.from({ length: MAX_CONFIG_ENTRIES + 1 }, (_, i) => `k${i}: 1`).join('\n');
    expect(tooManyEntries(lines)).toBe(
      `${MAX_CONFIG_ENTRIES + 1} entries (lines not blank or comments, and the commas and brackets on them); a config has at most ${MAX_CONFIG_ENTRIES}`,
    );
    expect(tooManyEntries(`{${Array.from({ length: MAX_CONFIG_ENTRIES }, (_, i) => `k${i}: 1`).join(', ')}}`)).toMatch(
      /^1001 entries/,
    );
    expect(tooManyEntries(`x = ${'['.repeat(1200)}${']'.repeat(1200)}`)).toMatch(/^1201 entries/);
    expect(tooManyEntries(lines.split('\n').slice(0, MAX_CONFIG_ENTRIES).join('\n'))).toBeNull();
  });
});
