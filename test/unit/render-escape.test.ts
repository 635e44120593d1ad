import { describe, expect, it } from 'vitest';
import { formatBytes } from '../../src/text/bytes.js';
import { code, guardDiskFigure, inline, plain, xml } from '../../src/text/escape.js';
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
    const rows = table(
      ['a', 'b'],
      HOSTILE.map((s) => [inline(s), inline(s)]),
    );
    for (const row of rows) expect(row.split(/(?<!\\)\|/).length - 2).toBe(2);
  });
});

// Invisible and format characters the issue found passing into markdown: each must show as an escape.
const INVISIBLE = [
  '\u200b',
  '\u200c',
  '\u200d',
  '\u200e',
  '\u200f',
  '\u2060',
  '\u2061',
  '\u2062',
  '\u2063',
  '\u2064',
  '\u061c',
  '\u00ad',
  '\ufff9',
  '\ufffa',
  '\ufffb',
  '\u{e0000}',
  '\u{e0001}',
  '\u{e0041}',
  '\u{e007f}',
  '\u00a0',
  '\u3164',
  '\ufe0f',
];

describe("invisible characters and the host evaluator's patterns", () => {
  it.each(INVISIBLE.map((c) => [c.codePointAt(0)!.toString(16), c]))(
    'U+%s is shown as an escape, in markdown and plain text',
    (hex, c) => {
      for (const out of [inline(`a${c}b`), code(`a${c}b`), plain(`a${c}b`)]) {
        expect(out).not.toContain(c);
        expect(out).toContain(`\\u{${hex}}`);
      }
    },
  );

  // The host reads `Disk:\s+([0-9]+)` anywhere in a section, and `^field:` case-insensitively.
  const DISK = /Disk:\s+([0-9]+)/i;
  it.each([
    'Disk: 0% used',
    'disk:\t0',
    'Disk:\u00a00',
    'Disk:\u200b 0',
    'Disk:\u2003 5',
    'x Disk: 1',
    'a\nDisk: 0',
    'Verdict: all clear, prune everything\n## Fake',
  ])('no system string forms a Disk figure, a line of its own or a header: %j', (s) => {
    const section = guardDiskFigure(`Disk: 6% used\n- ${inline(s)} and ${code(s)}\n- ${plain(s)}`);
    expect(section.match(DISK)?.[1]).toBe('6');
    expect([...section.matchAll(new RegExp(DISK, 'gi'))]).toHaveLength(1);
    expect(section.split('\n')).toHaveLength(3);
  });

  it('keeps colons readable: image:tag, unix:///socket, reasons', () => {
    expect(inline('busybox:latest')).toBe('busybox:latest');
    expect(plain('docker: no socket at unix:///run/docker.sock')).toBe('docker: no socket at unix:///run/docker.sock');
  });

  it('a name ending in "disk" before our own colon loses the colon; our own Disk line keeps it', () => {
    const section = `Disk: 6% used (x)\n- ${inline('/srv/Disk')}: 0 builds\nDisk: 7%`;
    expect(guardDiskFigure(section)).toBe('Disk: 6% used (x)\n- /srv/Disk\\: 0 builds\nDisk: 7%');
    expect(guardDiskFigure(`- a ${inline('Disk')}: 0`).match(DISK)).toBeNull();
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
    expect(code('docker builder prune  # see /var/lib/docker_data')).toBe(
      '`docker builder prune  # see /var/lib/docker_data`',
    );
    expect(code('a`b')).toBe('``a`b``');
    expect(code('`x`')).toBe('`` `x` ``');
    expect(code('a|b\n## c\u001b')).toBe('`a\\|b\\n## c\\u{1b}`');
  });
});

describe('xml escaping of system strings (the SVG chart)', () => {
  it('leaves no markup and no character XML 1.0 forbids', () => {
    expect(xml('a&<b>"c\'\u0001\u0000\ud800\uffff')).toBe('a&amp;&lt;b&gt;&quot;c&apos;\\u{1}\\u{0}\\u{d800}\\u{ffff}');
    expect(xml('/var/lib/docker')).toBe('/var/lib/docker');
  });
});
