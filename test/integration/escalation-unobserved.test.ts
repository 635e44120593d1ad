import { execa } from 'execa';
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ITEM_BEGIN, ITEM_END } from '../../src/render/vault-merge.js';
import { describeWith } from '../helpers/describe-with.js';
import { makeLoopFs, unmountUnder, type LoopFs } from '../helpers/loopfs.js';
import { parseReport, runPreflight } from '../helpers/preflight.js';
import { itemProblems } from '../helpers/vault-item.js';

const NOTES = '\nOps, 09:12: a bigger disk is ordered (ticket OPS-1234).\n- [ ] move the build cache once it is in\n';

/** A vault root with the host's four folders; the journal under it, as the host lays it out. */
async function vaultRoot(): Promise<{ root: string; env: NodeJS.ProcessEnv }> {
  const root = await mkdtemp(path.join(tmpdir(), 'pf-vault-'));
  for (const d of ['pending', 'approved', 'fired', 'rejected'])
    await mkdir(path.join(root, 'vault', d), { recursive: true });
  return { root, env: { OPS_REPO_ROOT: root, OPS_JOURNAL_ROOT: undefined } };
}

const dayFile = (root: string) =>
  path.join(root, 'journal', 'supervisor', `${new Date().toISOString().slice(0, 10)}.md`);
const count = (text: string, what: RegExp) => (text.match(what) ?? []).length;
const marks = (text: string) => text.split('\n').filter((l) => l === ITEM_BEGIN || l === ITEM_END);

/*
 * The escalated filesystem is a bindfs view of a loop ext4 past 80% (statfs
 * goes through to the loop filesystem); stopping the bindfs daemon makes the
 * mount stuck, as a hung NFS or FUSE server does.
 */
describeWith(
  ['mkfs.ext4', 'losetup', 'fallocate', 'bindfs', 'mount'],
  "escalation on a mount that gets stuck or is left out, with a person's notes in the item",
  () => {
    let fs: LoopFs;
    let root = '';
    let env: NodeJS.ProcessEnv = {};
    let dir = '';
    let dst = '';
    let bindfsPid = 0;
    let item = '';
    const data = () => path.join(fs.mountpoint, 'data');
    const fill = () => execa('fallocate', ['-l', '48M', path.join(data(), 'filler')]);
    const report = async (args: string[] = ['--path', dst]) => {
      const r = await runPreflight([...args, '--escalate', '--budget', '10', '--format', 'json'], env);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      return parseReport(r.stdout);
    };
    const states = async (args?: string[]) =>
      (await report(args)).escalation.items.map((x: any) => x.state).join(',') || 'none';
    const text = () => readFile(item, 'utf8');
    const day = () => readFile(dayFile(root), 'utf8').catch(() => '');

    beforeAll(async () => {
      fs = await makeLoopFs({ fstype: 'ext4', sizeMiB: 64 });
      await mkdir(data());
      dir = await mkdtemp('/tmp/pf-esc-stuck-');
      dst = path.join(dir, 'dst');
      await mkdir(dst);
      // -f: stay in the foreground, so the pid we hold is the FUSE daemon.
      bindfsPid = execa('bindfs', ['-f', data(), dst], { reject: false, stdin: 'ignore' }).pid!;
      for (let i = 0; i < 50 && !(await readFile('/proc/self/mountinfo', 'utf8')).includes(dst); i += 1)
        await sleep(100);
      await fill();
      ({ root, env } = await vaultRoot());
    });
    afterAll(async () => {
      if (bindfsPid) {
        try {
          process.kill(bindfsPid, 'SIGCONT');
        } catch {
          /* gone */
        }
      }
      if (dir) await unmountUnder(dst);
      if (bindfsPid) {
        try {
          process.kill(bindfsPid, 'SIGTERM');
        } catch {
          /* gone */
        }
      }
      await fs?.cleanup();
      for (const d of [dir, root]) if (d) await rm(d, { recursive: true, force: true });
    });

    it('a run on which the mount is stuck leaves the filed item and the journal as they are; the next run updates it', async () => {
      const seen: string[] = [];
      for (let i = 0; i < 3; i += 1) seen.push(await states());
      expect(seen).toEqual(['none', 'none', 'filed']);
      item = (await report()).escalation.items[0].file;
      await appendFile(item, NOTES);
      const before = await text();
      process.kill(bindfsPid, 'SIGSTOP');
      try {
        const doc = await report();
        expect(doc.filesystems.find((f: any) => f.mountpoint === dst)).toMatchObject({ stuck: true });
        expect(doc.escalation.items).toEqual([expect.objectContaining({ state: 'unobserved', file: null })]);
        expect(doc.escalation.active.map((a: any) => a.mountpoint)).toEqual([dst]);
        expect(await text()).toBe(before);
      } finally {
        process.kill(bindfsPid, 'SIGCONT');
      }
      expect(await day()).not.toContain('- vault: resolved');
      // Measured again, still full: the same item, updated, not filed a second time.
      expect(await states()).toBe('updated');
      expect(count(await day(), /- vault: filed supervisor-/g)).toBe(1);
    });

    it('a run without its --path leaves the item as it is; the next run with it updates it', async () => {
      const before = await text();
      const doc = await report([]);
      expect(doc.escalation.items).toEqual([expect.objectContaining({ state: 'unobserved' })]);
      expect(await text()).toBe(before);
      expect(await states()).toBe('updated');
      expect(await day()).not.toContain('- vault: resolved');
    });

    it("a person's notes survive ten runs, the resolve among them, and the item keeps the host's format", async () => {
      const seen: string[] = [];
      for (let i = 0; i < 9; i += 1) seen.push(await states());
      await rm(path.join(data(), 'filler'));
      seen.push(await states());
      expect(seen).toEqual([...Array(9).fill('updated'), 'resolved']);
      const now = await text();
      expect(now).toMatch(/^# Resolved: free space on /);
      expect(now.endsWith(`${ITEM_END}\n${NOTES}`)).toBe(true);
      expect(count(now, /a bigger disk is ordered/g)).toBe(1);
      expect(itemProblems(now)).toEqual([]);
      expect(count(await day(), /- vault: resolved supervisor-/g)).toBe(1);
      expect(await states()).toBe('none');
    });

    it("marks forged in a person's notes: the item is left alone and the report says so; repaired, it is updated again", async () => {
      await fill();
      const seen: string[] = [];
      for (let i = 0; i < 3; i += 1) seen.push(await states());
      expect(seen).toEqual(['none', 'none', 'filed']);
      expect(await text()).toMatch(/^# Free space on .*\n[^]*a bigger disk is ordered/);
      const forged = `${await text()}${ITEM_END}\n# Free space: nothing to do\n${ITEM_BEGIN}\n`;
      await writeFile(item, forged);
      const journal = await day();
      const doc = await report();
      expect(doc.escalation.items).toEqual([
        expect.objectContaining({
          state: 'damaged',
          detail: 'it holds 2 begin and 2 end marks of ours, not one of each',
        }),
      ]);
      expect(doc.sections.find((s: any) => s.id === 'escalation')).toMatchObject({ status: 'degraded' });
      expect(doc.escalation.problem).toMatch(/^vault: supervisor-.*\.md: left as it is/);
      expect(await text()).toBe(forged);
      expect(await day()).toBe(journal);
      await writeFile(item, forged.slice(0, forged.lastIndexOf(`${ITEM_END}\n# Free`)));
      expect(await states()).toBe('updated');
      expect(marks(await text())).toEqual([ITEM_BEGIN, ITEM_END]);
    });
  },
);

describeWith(
  ['mkfs.ext4', 'losetup', 'fallocate', 'mount'],
  'escalation for a mount whose name carries our marks',
  () => {
    let fs: LoopFs;
    let base = '';
    let root = '';
    let env: NodeJS.ProcessEnv = {};
    beforeAll(async () => {
      base = await mkdtemp('/tmp/pf-esc-hostile-');
      fs = await makeLoopFs({
        fstype: 'ext4',
        sizeMiB: 64,
        mountpoint: `${base}/m\n${ITEM_END}\n${ITEM_BEGIN}\n# forged`,
      });
      await execa('fallocate', ['-l', '48M', path.join(fs.mountpoint, 'filler')]);
      ({ root, env } = await vaultRoot());
    });
    afterAll(async () => {
      await fs?.cleanup();
      for (const d of [base, root]) if (d) await rm(d, { recursive: true, force: true });
    });

    it("filed and updated with one pair of marks, the person's notes kept", async () => {
      const run = async () => {
        const r = await runPreflight(['--path', fs.mountpoint, '--escalate', '--format', 'json'], env);
        expect(r.exitCode, r.stderr).toBe(0);
        return parseReport(r.stdout).escalation.items;
      };
      for (let i = 0; i < 2; i += 1) await run();
      const [filed] = await run();
      expect(filed.state).toBe('filed');
      expect(marks(await readFile(filed.file, 'utf8'))).toEqual([ITEM_BEGIN, ITEM_END]);
      await appendFile(filed.file, NOTES);
      expect((await run()).map((x: any) => x.state)).toEqual(['updated']);
      const text = await readFile(filed.file, 'utf8');
      expect(marks(text)).toEqual([ITEM_BEGIN, ITEM_END]);
      expect(text.endsWith(`${ITEM_END}\n${NOTES}`)).toBe(true);
      expect(itemProblems(text)).toEqual([]);
    });
  },
);
