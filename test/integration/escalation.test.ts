import { execa } from 'execa';
import { mkdir, mkdtemp, readdir, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith } from '../helpers/describe-with.js';
import { makeLoopFs, type LoopFs } from '../helpers/loopfs.js';
import { parseReport, runPreflight } from '../helpers/preflight.js';
import { humanStepProblems, itemProblems } from '../helpers/vault-item.js';

describeWith(
  ['mkfs.ext4', 'losetup', 'fallocate'],
  'escalation to the vault on a real loop filesystem past 80%',
  () => {
    let fs: LoopFs;
    let root: string;
    let env: NodeJS.ProcessEnv;
    const pending = () => path.join(root, 'vault', 'pending');
    const args = () => ['--path', fs.mountpoint, '--escalate', '--format', 'json'];
    const run = async () => {
      const r = await runPreflight(args(), env);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      return parseReport(r.stdout).escalation;
    };
    const ours = async () => (await readdir(pending())).filter((f) => f.startsWith('supervisor-'));

    beforeAll(async () => {
      fs = await makeLoopFs({ fstype: 'ext4', sizeMiB: 64 });
      root = await mkdtemp(path.join(tmpdir(), 'pf-vault-'));
      for (const d of ['pending', 'approved', 'fired', 'rejected'])
        await mkdir(path.join(root, 'vault', d), { recursive: true });
      // The host's layout: OPS_REPO_ROOT gives both the journal and the vault.
      env = { OPS_REPO_ROOT: root, OPS_JOURNAL_ROOT: undefined };
      await execa('fallocate', ['-l', '48M', path.join(fs.mountpoint, 'filler')]);
    });
    afterAll(async () => {
      await fs?.cleanup();
      if (root) await rm(root, { recursive: true, force: true });
    });

    it('ten runs with the same P1 leave exactly one pending item, filed once (after 3 runs) and then updated in place', async () => {
      const states: string[] = [];
      for (let i = 0; i < 10; i += 1) {
        const e = await run();
        states.push(e.items.map((x: any) => x.state).join(',') || 'none');
      }
      expect(states).toEqual(['none', 'none', 'filed', ...Array(7).fill('updated')]);
      const files = await ours();
      expect(files).toHaveLength(1);
      expect(files[0]).toMatch(/^supervisor-storage-disk-space-tmp-pf-loop-[a-z0-9-]+\.md$/);
      const text = await readFile(path.join(pending(), files[0]!), 'utf8');
      expect(itemProblems(text)).toEqual([]);
      expect(humanStepProblems(text)).toEqual([]);
      expect(text).toMatch(
        /^# Free space on \/tmp\/pf-loop-\w+\/mnt: 9\d% used, beyond what the safe clean-up can free\n/,
      );
      expect(text).toMatch(/Above 80% for 10 consecutive runs, since \d{4}-\d\d-\d\d \d\d:\d\d UTC\./);
      // Every Human Action step carries its command; growing an ext4 is resize2fs on its device.
      expect(text).toMatch(/Or grow the filesystem holding .*:\n {3}```sh\n {3}resize2fs \/dev\/loop\d+\n/);
      const steps = text
        .slice(text.indexOf('## Human Action'))
        .split('\n')
        .filter((l) => /^\d+\. /.test(l));
      expect(steps.length).toBeGreaterThan(0);
      for (const s of steps)
        expect(text.slice(text.indexOf(s) + s.length, text.indexOf(s) + s.length + 7)).toBe('\n   ```');
      // No temporary file left behind by the atomic writes.
      expect((await readdir(pending())).filter((f) => f.startsWith('.'))).toEqual([]);
      // The shared day journal got one line for the filing, none for the updates.
      const day = await readFile(
        path.join(root, 'journal', 'supervisor', `${new Date().toISOString().slice(0, 10)}.md`),
        'utf8',
      );
      expect(day.match(/- vault: filed supervisor-storage-disk-space-/g)).toHaveLength(1);
    });

    it('clearing the condition marks the pending item resolved, with the figures, and the journal says so', async () => {
      await rm(path.join(fs.mountpoint, 'filler'));
      const e = await run();
      expect(e.items.map((x: any) => x.state)).toEqual(['resolved']);
      const [file] = await ours();
      const text = await readFile(path.join(pending(), file!), 'utf8');
      expect(itemProblems(text)).toEqual([]);
      expect(text).toMatch(/^# Resolved: free space on /);
      expect(text).toMatch(/Resolved at .* UTC: \/tmp\/.* is \d+% used/);
      const day = await readFile(
        path.join(root, 'journal', 'supervisor', `${new Date().toISOString().slice(0, 10)}.md`),
        'utf8',
      );
      expect(day).toContain(`- vault: resolved ${file}`);
      // Said once: the next run has nothing to resolve.
      expect((await run()).items).toEqual([]);
    });

    it('an item a person moved to approved/ is not filed again while the condition holds', async () => {
      const [file] = await ours();
      await rename(path.join(pending(), file!), path.join(root, 'vault', 'approved', file!));
      await execa('fallocate', ['-l', '48M', path.join(fs.mountpoint, 'filler')]);
      const states: string[] = [];
      for (let i = 0; i < 4; i += 1)
        states.push((await run()).items.map((x: any) => `${x.state}:${x.detail}`).join(',') || 'none');
      expect(states).toEqual(['none', 'none', 'held:approved', 'held:approved']);
      expect(await ours()).toEqual([]);
      const md = await runPreflight(['--path', fs.mountpoint, '--escalate'], env);
      expect(md.stdout, md.stdout.slice(md.stdout.indexOf('## Escalation'))).toMatch(
        /\n## Escalation\nEscalation: held\nVault: .*\n- supervisor-storage-disk-space-.*\.md: already approved, not filed again\n?$/,
      );
    });

    it("a read-only or full vault disk, or a symlink planted at the item's name: one line in the report, nothing else lost", async () => {
      const slugFile = (await runPreflight([...args()], env)).stdout;
      const name = `supervisor-${JSON.parse(slugFile).escalation.items[0].slug}.md`;
      const mounts: string[] = [];
      try {
        const ro = path.join(root, 'ro');
        const full = path.join(root, 'full');
        for (const [dir, opts] of [
          [ro, 'size=1m'],
          [full, 'size=64k'],
        ] as const) {
          await mkdir(dir, { recursive: true });
          await execa('mount', ['-t', 'tmpfs', '-o', opts, 'tmpfs', dir]);
          mounts.push(dir);
          await mkdir(path.join(dir, 'pending'));
        }
        await execa('mount', ['-o', 'remount,ro', ro]);
        await execa('dd', ['if=/dev/zero', `of=${full}/pending/.fill`, 'bs=4k', 'count=100'], { reject: false });
        const planted = path.join(root, 'planted');
        await mkdir(path.join(planted, 'pending'), { recursive: true });
        await execa('ln', ['-s', '/etc/hostname', path.join(planted, 'pending', name)]);
        const before = await readFile('/etc/hostname', 'utf8');
        for (const [vault, code] of [
          [ro, 'EROFS'],
          [full, 'ENOSPC'],
          [planted, 'ELOOP'],
        ] as const) {
          const r = await runPreflight([...args(), '--vault', path.join(vault, 'pending')], env);
          expect(r.exitCode).toBe(0);
          expect(r.stderr).toBe('');
          const doc = parseReport(r.stdout);
          expect(doc.escalation.items.map((i: any) => i.state)).toEqual(['failed']);
          expect(doc.escalation.problem).toMatch(new RegExp(`^vault: ${code}: `));
          expect(doc.sections.find((x: any) => x.id === 'escalation')).toMatchObject({ status: 'degraded' });
          // The run itself is whole: its history record was written.
          expect(doc.journal.written).toBe(true);
          expect((await readdir(path.join(vault, 'pending'))).filter((f) => f.startsWith('.supervisor'))).toEqual([]);
        }
        expect(await readFile('/etc/hostname', 'utf8')).toBe(before);
      } finally {
        for (const m of mounts) await execa('umount', [m], { reject: false });
      }
    });
  },
);
