import { describe, expect, it } from 'vitest';
import { growStep } from '../../src/model/grow-filesystem.js';
import { DEFAULT_ESCALATION, escalations, type EscalationInput } from '../../src/model/escalation.js';
import { formatDuration } from '../../src/text/duration.js';
import { appliedMarkdown } from '../../src/render/applied.js';
import { freedText, shortReasons, type ApplyResult } from '../../src/model/remediation/applied.js';
import { progressText } from '../../src/run/apply/progress.js';
import { formatBytes } from '../../src/text/bytes.js';

const MiB = 1024 ** 2;

describe('durations in the unit that fits', () => {
  it('milliseconds, seconds, minutes, hours and minutes, days', () => {
    expect(
      [
        0,
        40_000,
        59_000,
        90_000,
        12 * 60_000,
        3_600_000,
        200 * 60_000,
        24 * 3_600_000,
        47.5 * 3_600_000,
        7 * 86_400_000,
      ].map(formatDuration),
    ).toEqual(['0 ms', '40 s', '59 s', '2 min', '12 min', '1 h', '3 h 20 min', '24 h', '47 h 30 min', '7 days']);
  });
});

describe('a negative "freed": another writer added more than the step freed', () => {
  const step = {
    kind: 'remove-containers',
    tier: 'safe',
    title: 'remove 4 containers that exited more than 40 s ago',
    expectedBytes: 200 * MiB,
    daemonReclaimedBytes: null,
    usedBeforeBytes: 0,
    usedAfterBytes: 0,
    measuredBytes: -499.3 * MiB,
    durationMs: 1200,
    problem: null,
    detail: null,
    objects: [],
  };
  const applied = {
    mountpoint: '/var/lib/docker',
    targetPct: 75,
    maxTier: 'safe',
    startedAt: '',
    finishedAt: '',
    lockWaitedMs: 0,
    capacityBytes: 1000 * MiB,
    usedBeforeBytes: 900 * MiB,
    usedAfterBytes: 950 * MiB,
    wantedBytes: 150 * MiB,
    freedBytes: -499.3 * MiB,
    targetReached: false,
    stopped: 'steps-exhausted',
    short: [],
    steps: [step],
    notRun: [],
    notes: [],
  } as unknown as ApplyResult;

  it('is said as what it is, wherever freed is said', () => {
    expect(freedText(-499.3 * MiB)).toBe('another writer added 499.3 MiB meanwhile');
    expect(freedText(12 * MiB)).toBe('freed 12.0 MiB');
    expect(freedText(null)).toBe('freed an unknown amount');
    const md = appliedMarkdown(applied).join('\n');
    expect(md).toContain('), another writer added 499.3 MiB meanwhile (statfs); now ');
    expect(md).toContain('| another writer added 499.3 MiB meanwhile |');
    expect(progressText({ kind: 'step-done', step, capacityBytes: 1000 * MiB } as never)).toMatch(
      /^another writer added 499\.3 MiB meanwhile \(statfs\)/,
    );
    expect(shortReasons(applied).map((r) => r.text)).toContain(
      'statfs saw none of the 200.0 MiB their removals were expected to free: another writer added 499.3 MiB meanwhile',
    );
    const e: EscalationInput = {
      findings: [{ name: 'disk-high', severity: 'P1', evidence: '', action: 'llm', mountpoint: '/var/lib/docker' }],
      filesystems: [],
      attribution: null,
      plan: null,
      applied,
      trend: { filesystems: [], alerts: [], remediations: [] },
      diskHighPct: 80,
    };
    const [item] = escalations(e, DEFAULT_ESCALATION, formatBytes);
    expect(item?.reasons[0]).toBe(
      'Still 95% used after the safe clean-up: another writer added 499.3 MiB meanwhile (P1 above 80%).',
    );
    expect(item?.tried[0]).toBe(
      'This run: remove 4 containers that exited more than 40 s ago: another writer added 499.3 MiB meanwhile (statfs).',
    );
    expect(`${md}\n${JSON.stringify(item)}`).not.toMatch(/freed -|−/);
  });
});

describe('growing the filesystem: a command by its type', () => {
  const row = (fstype: string, device = '/dev/mapper/vg-docker') => ({ fstype, device, sizeBytes: 1024 * MiB });
  it('ext4, xfs, btrfs, tmpfs, and anything else', () => {
    expect(growStep('/var/lib/docker', row('ext4')).command).toBe('resize2fs /dev/mapper/vg-docker');
    expect(growStep('/srv/a b', row('xfs')).command).toBe("xfs_growfs '/srv/a b'");
    expect(growStep('/srv', row('btrfs')).command).toBe('btrfs filesystem resize max /srv');
    expect(growStep('/run/x', row('tmpfs', 'tmpfs')).command).toBe('mount -o remount,size=1536m /run/x');
    expect(growStep('/z', row('zfs', 'pool/z'))).toEqual({
      text: 'Or grow the filesystem holding /z (zfs): find its device and type, grow the device, then the filesystem with its own tool:',
      command: 'findmnt --target /z -o SOURCE,FSTYPE,SIZE,AVAIL',
    });
    expect(growStep('/gone', undefined).command).toBe('findmnt --target /gone -o SOURCE,FSTYPE,SIZE,AVAIL');
    // A hostile device name stays one quoted word.
    expect(growStep('/d', row('ext4', "/dev/x'; rm -rf /")).command).toBe("resize2fs '/dev/x'\\''; rm -rf /'");
  });
});
