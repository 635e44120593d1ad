import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { printfEscape } from '../../src/probes/statfs.js';
import { parseMountinfo, parseMountinfoBytes, unescapeMountField } from '../../src/parse/mountinfo.js';
import { fixture } from '../helpers/fixtures.js';

describe('parseMountinfo on a captured table (overlay2 daemon, hostile mount)', () => {
  const table = parseMountinfo(fixture('mountinfo/docker-overlay2-hostile.txt'));

  it('reads every line of the capture', () => {
    const lines = fixture('mountinfo/docker-overlay2-hostile.txt')
      .split('\n')
      .filter((l) => l.trim() !== '');
    expect(table).toHaveLength(lines.length);
  });

  it('reads the root filesystem', () => {
    const root = table.find((m) => m.mountpoint === '/');
    expect(root).toMatchObject({ device: '254:0', fstype: 'ext4', source: '/dev/vda', readonly: false });
  });

  it('unescapes space, newline, tab and backslash in a hostile mountpoint', () => {
    const hostile = table.find((m) => m.device === '7:1');
    expect(hostile?.mountpoint).toBe('/tmp/dd/ho st\n## Fake `tick` |pipe\\back\ttab');
  });

  it("keeps the bind root of Docker's self-mounted data root", () => {
    const data = table.find((m) => m.mountpoint === '/tmp/dd/mnt/data');
    expect(data).toMatchObject({ device: '7:0', root: '/data' });
  });

  it('reads optional fields and the fstype after the separator', () => {
    const overlay = table.find((m) => m.fstype === 'overlay');
    expect(overlay?.mountpoint).toMatch(/\/overlay2\/[0-9a-f]{64}\/merged$/);
    const nsfs = table.find((m) => m.fstype === 'nsfs');
    expect(nsfs?.root).toMatch(/^net:\[\d+\]$/);
  });
});

describe('parseMountinfo robustness', () => {
  it('skips malformed lines instead of failing', () => {
    const text = 'garbage\n\n27 1 254:0 / / rw - ext4 /dev/vda rw\n1 2 x:y / /a rw - ext4 /dev/x rw\n';
    expect(parseMountinfo(text).map((m) => m.mountpoint)).toEqual(['/']);
  });

  it('flags read-only from mount or superblock options', () => {
    const text =
      '1 0 8:1 / /a ro,relatime - ext4 /dev/sda1 rw\n2 0 8:2 / /b rw - ext4 /dev/sda2 ro\n3 0 8:3 / /c rw - ext4 /dev/sda3 rw\n';
    expect(parseMountinfo(text).map((m) => m.readonly)).toEqual([true, true, false]);
  });

  it('unescapes only 3-digit octal escapes', () => {
    expect(unescapeMountField('/a\\040b\\134c\\x')).toBe('/a b\\c\\x');
  });

  // Written by hand: the kernel prints mount point bytes as they are (only space, tab, newline, backslash escaped).
  it('keeps the bytes of a mount point that is not UTF-8, and shows U+FFFD for them', () => {
    const bytes = Buffer.concat([
      Buffer.from('27 1 254:0 / / rw - ext4 /dev/vda rw\n90 27 0:55 / /tmp/r\\040aw'),
      Buffer.from([0x9b, 0xff, 0x1b]),
      Buffer.from(' rw - tmpfs tmpfs rw\n91 27 0:56 / /tmp/donn\u00e9es rw - tmpfs tmpfs rw\n'),
    ]);
    const [root, raw, utf8] = parseMountinfoBytes(bytes);
    expect(root).toMatchObject({ mountpoint: '/' });
    expect(root!.rawMountpoint).toBeUndefined();
    expect(raw!.mountpoint).toBe('/tmp/r aw\ufffd\ufffd\u001b');
    expect(Buffer.from(raw!.rawMountpoint!, 'latin1')).toEqual(
      Buffer.concat([Buffer.from('/tmp/r aw'), Buffer.from([0x9b, 0xff, 0x1b])]),
    );
    expect(utf8).toMatchObject({ mountpoint: '/tmp/donn\u00e9es' });
    expect(utf8!.rawMountpoint).toBeUndefined();
  });

  it('escapes raw bytes for printf %b, and printf gives the same bytes back', async () => {
    const raw = Buffer.from([0x2f, 0x9b, 0xff, 0x1b, 0x5c, 0x25, 0x0a, 0x20]).toString('latin1');
    const { stdout } = await execa('sh', ['-c', 'printf "%b" "$1"', 'x', printfEscape(raw)], {
      encoding: 'buffer',
      stripFinalNewline: false,
    });
    expect(Buffer.from(stdout)).toEqual(Buffer.from(raw, 'latin1'));
  });
});
