import { describe, expect, it } from 'vitest';
import { formatBytes } from '../../src/render/bytes.js';
import { code, inline } from '../../src/render/escape.js';
import { table } from '../../src/render/table.js';

const HOSTILE = [
  '/mnt/a\n## Fake header',
  '/x\r\n# also',
  '`code` and | pipe',
  '\u001b[31mred\u001b[0m',
  '\u009b31m C1 CSI',
  'bidi \u202e reversed \u2066 isolate',
  'line\u2028separator',
  '#start',
  'back\\slash',
];

describe('inline escaping of system strings', () => {
  it.each(HOSTILE)('cannot create a line, a header, a code span or an escape: %j', (s) => {
    const out = inline(s);
    expect(out).not.toMatch(/[\n\r\u001b\u009b\u2028\u2029\u202e\u2066]/);
    expect(out).not.toMatch(/^#/);
    expect(out).not.toMatch(/(^|[^\\])[`|]/);
  });

  it('keeps ordinary paths readable', () => {
    expect(inline('/var/lib/docker')).toBe('/var/lib/docker');
  });

  it('shows what was escaped', () => {
    expect(inline('a\nb\tc|d')).toBe('a\\nb\\tc\\|d');
    expect(inline('\u001b')).toBe('\\u{1b}');
  });

  it('clips very long strings', () => {
    expect([...inline('x'.repeat(1000))].length).toBe(160);
  });

  it('keeps the column count of a table whose cells are hostile', () => {
    const rows = table(['a', 'b'], HOSTILE.map((s) => [inline(s), inline(s)]));
    for (const row of rows) expect(row.split(/(?<!\\)\|/).length - 2).toBe(2);
  });
});

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1.0 KiB'],
    [1536, '1.5 KiB'],
    [12.3 * 1024 ** 3, '12.3 GiB'],
    [1024 ** 4 - 1, '1.0 TiB'],
    [-2048, '-2.0 KiB'],
  ])('%d → %s', (n, s) => expect(formatBytes(n)).toBe(s));
});

describe('code spans for commands and paths', () => {
  it('keeps underscores and # literal, fences backticks, escapes pipes and control characters', () => {
    expect(code('docker builder prune  # see /var/lib/docker_data')).toBe('`docker builder prune  # see /var/lib/docker_data`');
    expect(code('a`b')).toBe('``a`b``');
    expect(code('`x`')).toBe('`` `x` ``');
    expect(code('a|b\n## c\u001b')).toBe('`a\\|b\\n## c\\u{1b}`');
  });
});
