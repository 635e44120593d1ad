import { execa } from 'execa';
import { mkdtemp, rm } from 'node:fs/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeLoopFs, type LoopFs } from '../helpers/loopfs.js';
import { parseReport, runPreflight } from '../helpers/preflight.js';
import { describeWith } from '../helpers/describe-with.js';

describeWith(['mkfs.ext4', 'losetup', 'mount'], 'a loop ext4 mounted at a hostile path', () => {
  let fs: LoopFs;
  let hostile = '';
  let base = '';
  beforeAll(async () => {
    base = await mkdtemp('/tmp/pf-hostile-');
    hostile = `${base}/ho st\n## Fake \`tick\` |pipe\\back\ttab\u001b[31m`;
    fs = await makeLoopFs({ fstype: 'ext4', sizeMiB: 64, mountpoint: hostile });
    await execa('dd', ['if=/dev/urandom', `of=${hostile}/blob`, 'bs=1M', 'count=9', 'status=none']);
    await execa('sync');
  });
  afterAll(async () => {
    await fs?.cleanup();
    if (base) await rm(base, { recursive: true, force: true });
  });

  it('renders without adding a header line, and every table row keeps its column count', async () => {
    const run = await runPreflight(['--path', hostile]);
    expect(run.exitCode).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines.filter((l) => l.startsWith('#'))).toEqual([
      '## Storage Pressure',
      '## Remediation Plan',
      '## Filesystem',
      '## Docker Storage',
      '## Storage Trend',
    ]);
    expect(run.stdout).not.toContain('\u001b');
    const rows = lines.filter((l) => l.startsWith('|'));
    const columns = (l: string) => l.split(/(?<!\\)\|/).length - 2;
    expect(rows.length).toBeGreaterThanOrEqual(4); // header, rule, /, the hostile mount
    // Every table keeps its header's column count on every row (the hostile path is in two of them).
    let width = 0;
    for (const line of lines) {
      if (!line.startsWith('|')) {
        width = 0;
        continue;
      }
      if (width === 0) width = columns(line);
      expect(columns(line)).toBe(width);
    }
    expect(rows.filter((r) => r.startsWith('| Mount ')).length).toBe(2); // Filesystem and Storage Trend
    expect(run.stdout).toContain('ho st\\n\\#\\# Fake \\`tick\\` \\|pipe\\\\back\\ttab\\u{1b}\\[31m');
  });

  it('reports the exact mountpoint and df -B1 figures in JSON', async () => {
    const doc = parseReport((await runPreflight(['--format', 'json', '--path', hostile])).stdout);
    const row = doc.filesystems.find((f: { roles: string[] }) => f.roles.includes('path'));
    expect(row.mountpoint).toBe(hostile);
    expect(row.fstype).toBe('ext4');
    const dfOut = await execa('df', ['-B1', '--output=size,used,avail', hostile]);
    const [size, used, avail] = String(dfOut.stdout).trim().split('\n')[1]!.trim().split(/\s+/).map(Number);
    expect([row.sizeBytes, row.usedBytes, row.availBytes]).toEqual([size, used, avail]);
    expect(row.usedBytes).toBeGreaterThan(9 * 1024 * 1024);
  });
});
