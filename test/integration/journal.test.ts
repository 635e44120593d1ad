import { execa } from 'execa';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJournal } from '../../src/journal/entry.js';
import { describeWith } from '../helpers/describe-with.js';
import { makeLoopFs, type LoopFs } from '../helpers/loopfs.js';
import { parseReport, runPreflight } from '../helpers/preflight.js';

async function journalText(dir: string): Promise<string> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.md')).sort();
  return (await Promise.all(files.map((f) => readFile(path.join(dir, f), 'utf8')))).join('');
}

describe('the daily journal', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pf-journal-it-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('twenty concurrent real runs leave twenty whole entries', async () => {
    const runs = await Promise.all(Array.from({ length: 20 }, () => runPreflight([], { OPS_JOURNAL_ROOT: dir })));
    expect(runs.every((r) => r.exitCode === 0)).toBe(true);
    const parsed = parseJournal(await journalText(dir));
    expect(parsed.unreadable).toBe(0);
    expect(parsed.entries).toHaveLength(20);
    // Twenty different runs, not one entry written twice (two may share a millisecond).
    expect(new Set(parsed.entries.map((e) => e.id)).size).toBe(20);
  });

  it('reads its entries back among LLM prose and garbage, and reports the trend', async () => {
    const day = `${new Date().toISOString().slice(0, 10)}.md`;
    await writeFile(path.join(dir, day), '\n## Supervisor run — 06:00 UTC\n- pruned nothing\n```yaml preflight-entry\n{"broken":\n```\n', { flag: 'a' });
    const run = await runPreflight(['--format', 'json'], { OPS_JOURNAL_ROOT: dir });
    const doc = parseReport(run.stdout);
    expect(doc.trend.entries).toBe(21); // 20 earlier runs + this one
    expect(doc.trend.unreadable).toBe(1);
    expect(doc.journal).toMatchObject({ written: true, reason: null });
    const md = (await runPreflight(['trend'], { OPS_JOURNAL_ROOT: dir })).stdout;
    // trend reads the journal only: no run of its own is added.
    expect(md).toMatch(/^## Storage Trend\nFrom 21 journal entries in 1 day files \(1 unreadable blocks skipped\)\./);
    expect(md).not.toContain('## Filesystem');
    expect(md).toMatch(/^\| \/ \| \d+% \|/m);
  });

  it('--no-journal neither reads nor writes', async () => {
    const before = await journalText(dir);
    const doc = parseReport((await runPreflight(['--format', 'json', '--no-journal'], { OPS_JOURNAL_ROOT: dir })).stdout);
    expect(doc.journal).toBeNull();
    expect(doc.trend.entries).toBe(1);
    expect(await journalText(dir)).toBe(before);
  });

  it('--journal-keep-days removes old day files only', async () => {
    await writeFile(path.join(dir, '2020-01-01.md'), 'old');
    await writeFile(path.join(dir, 'notes.md'), 'not a day file');
    await runPreflight(['--journal', dir, '--journal-keep-days', '30']);
    const names = await readdir(dir);
    expect(names).not.toContain('2020-01-01.md');
    expect(names).toContain('notes.md');
  });
});

describeWith(['mkfs.ext4', 'losetup', 'mount'], 'a journal on a full or read-only filesystem', () => {
  let fs: LoopFs;
  beforeAll(async () => {
    fs = await makeLoopFs({ fstype: 'ext4', sizeMiB: 8 });
  });
  afterAll(async () => {
    await fs?.cleanup();
  });

  it('on ENOSPC prints the full report plus one failure line, and the next run reads the journal cleanly', async () => {
    const dir = fs.mountpoint;
    expect((await runPreflight([], { OPS_JOURNAL_ROOT: dir })).exitCode).toBe(0);
    // The LLM's prose pads the day file to a block boundary, so the next append needs a new block;
    // then fill what is left (as root, the reserve too) until ENOSPC.
    const [day] = (await readdir(dir)).filter((f) => f.endsWith('.md'));
    const file = path.join(dir, day!);
    const { stdout } = await execa('stat', ['-c', '%s %o', file]);
    const [size, block] = String(stdout).split(' ').map(Number) as [number, number];
    const pad = (block - (size % block)) % block;
    if (pad > 0) await writeFile(file, pad === 1 ? '\n' : `\n${'~'.repeat(pad - 2)}\n`, { flag: 'a' });
    await execa('dd', ['if=/dev/zero', `of=${dir}/filler`, 'bs=4K', 'status=none'], { reject: false });
    await execa('dd', ['if=/dev/zero', `of=${dir}/filler2`, 'bs=512', 'status=none'], { reject: false });
    await execa('sync');
    const full = await runPreflight([], { OPS_JOURNAL_ROOT: dir });
    expect(full.exitCode).toBe(0);
    expect(full.stdout).toContain('## Storage Pressure');
    expect(full.stdout).toContain('## Storage Trend');
    expect(full.stdout).toMatch(/\n\nJournal: appending to .*\.md failed \(ENOSPC: .*\); this run is not recorded\.$/);
    const afterFull = parseJournal(await journalText(dir));
    expect(afterFull).toMatchObject({ unreadable: 0 });
    expect(afterFull.entries).toHaveLength(1);
    await rm(`${dir}/filler`);
    await rm(`${dir}/filler2`, { force: true });
    await execa('sync');
    const next = parseReport((await runPreflight(['--format', 'json'], { OPS_JOURNAL_ROOT: dir })).stdout);
    expect(next.journal).toMatchObject({ written: true });
    expect(next.trend).toMatchObject({ entries: 2, unreadable: 0 });
    expect(next.sections.find((s: { id: string }) => s.id === 'trend').status).toBe('ok');
  });

  it('on a read-only filesystem says EROFS and still reports', async () => {
    await execa('mount', ['-o', 'remount,ro', fs.mountpoint]);
    try {
      const run = await runPreflight([], { OPS_JOURNAL_ROOT: fs.mountpoint });
      expect(run.exitCode).toBe(0);
      expect(run.stdout).toMatch(/Journal: appending to .* failed \(EROFS: .*\)/);
      expect(run.stdout).toContain('## Filesystem');
    } finally {
      await execa('mount', ['-o', 'remount,rw', fs.mountpoint]);
    }
  });
});
