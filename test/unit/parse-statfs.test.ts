import { describe, expect, it } from 'vitest';
import { parseStatfsLine, usageFromStatfs } from '../../src/parse/statfs.js';
import { fixture } from '../helpers/fixtures.js';

/** `df -B1 --output=size,used,avail,pcent,ipcent` captured beside each statfs line. */
function dfRow(name: string) {
  const [, row] = fixture(`statfs/${name}.df`).trim().split('\n');
  const [size, used, avail, pcent, ipcent] = row!.trim().split(/\s+/);
  return {
    sizeBytes: Number(size),
    usedBytes: Number(used),
    availBytes: Number(avail),
    usedPct: Number(pcent!.replace('%', '')),
    inodesUsedPct: ipcent === '-' ? null : Number(ipcent!.replace('%', '')),
  };
}

describe.each(['ext4-loop', 'btrfs-loop', 'tmpfs'])('statfs figures equal df -B1 (%s)', (name) => {
  it('size, used, available and Use% match df to the byte', () => {
    const statfs = parseStatfsLine(fixture(`statfs/${name}.stat`));
    expect(statfs).toBeDefined();
    expect(usageFromStatfs(statfs!)).toMatchObject(dfRow(name));
  });
});

describe('usageFromStatfs', () => {
  it('uses f_frsize (1 KiB blocks on a small ext4)', () => {
    const s = parseStatfsLine(fixture('statfs/ext4-loop.stat'))!;
    expect(s.frsize).toBe(1024);
    expect(usageFromStatfs(s).sizeBytes).toBe(s.blocks * 1024);
  });

  it('reports root-reserved blocks as bfree - bavail', () => {
    const u = usageFromStatfs({ frsize: 4096, blocks: 1000, bfree: 300, bavail: 250, files: 10, ffree: 5 });
    expect(u.reservedBytes).toBe(50 * 4096);
    expect(u.usedPct).toBe(Math.ceil((700 * 100) / 950));
    expect(u.inodesUsedPct).toBe(50);
  });

  it('has no inode figure where the filesystem reports none (btrfs)', () => {
    expect(usageFromStatfs(parseStatfsLine(fixture('statfs/btrfs-loop.stat'))!).inodesUsedPct).toBeNull();
  });

  it('rejects a line that is not six numbers', () => {
    expect(parseStatfsLine('4096 1 2 3 4')).toBeUndefined();
    expect(parseStatfsLine('stat: cannot read file system information')).toBeUndefined();
  });
});
