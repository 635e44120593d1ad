import { execa } from 'execa';
import {
  chmod,
  chown,
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  readlink,
  rename,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyRule } from '../../src/actuators/rule-files.js';
import { execRunner } from '../../src/host/exec.js';
import { planRuleSteps } from '../../src/model/remediation/rule-steps.js';
import type { CleanupRule } from '../../src/model/remediation/rules.js';
import { getMountTable } from '../../src/probes/mountinfo.js';
import { getRuleScans } from '../../src/probes/rule-scan.js';
import { describeWith } from '../helpers/describe-with.js';
import { makeLoopFs, unmountUnder, type LoopFs } from '../helpers/loopfs.js';
import { parseReport, runPreflight } from '../helpers/preflight.js';
import { fillTo, statfsOf } from '../helpers/statfs.js';

/*
 * The operator's clean-up rules on a loop ext4 of their own, as root: aged
 * files (touch -d), a link from inside the root to a file outside it, a
 * bind mount of another folder of the same filesystem inside the root (same
 * st_dev: only the mount table tells it), a hostile name. The dry run lists
 * exactly what the rule selects; the apply removes exactly that.
 */

const MiB = 1024 * 1024;
const HOSTILE = 'evil\n# x | `tick`.log';

async function fileOf(p: string, bytes: number, age?: string): Promise<void> {
  await mkdir(path.dirname(p), { recursive: true });
  await writeFile(p, Buffer.alloc(bytes, 1));
  if (age) await execa('touch', ['-d', age, '--', p]);
}

async function exists(p: string): Promise<boolean> {
  return lstat(p).then(
    () => true,
    () => false,
  );
}

let configs = 0;
function configOf(dir: string, rules: object[]): Promise<string> {
  const file = path.join(dir, `rules-${(configs += 1)}.yaml`);
  return writeFile(file, JSON.stringify({ remediation: { rules } })).then(() => file);
}

describe.skipIf(process.getuid?.() !== 0)('clean-up rules on a loop filesystem', () => {
  let fs: LoopFs;
  let root: string;
  let outside: string;
  let config: string;
  const rule = (over: object = {}) => ({
    name: 'old-logs',
    root,
    match: '**/*.log',
    action: 'delete',
    older_than: '7d',
    pressure_pct: 60,
    pressure_older_than: '2d',
    protect: ['logs/keep/**'],
    tier: 'safe',
    ...over,
  });
  const planned = async (cfg: string) => {
    const r = await runPreflight(['remediate', '--format', 'json', '--config', cfg]);
    expect([r.exitCode, r.stderr]).toEqual([0, '']);
    const steps = parseReport(r.stdout).remediation.plan.steps as { kind: string; objects: { name: string }[] }[];
    return steps.filter((s) => s.kind === 'cleanup-rule');
  };

  beforeAll(async () => {
    fs = await makeLoopFs({ fstype: 'ext4', sizeMiB: 128 });
    root = path.join(fs.mountpoint, 'data');
    outside = path.join(fs.mountpoint, 'outside');
    await fileOf(`${root}/logs/old1.log`, 4 * MiB, '10 days ago');
    await fileOf(`${root}/logs/deep/old2.log`, 2 * MiB, '10 days ago');
    await fileOf(`${root}/logs/${HOSTILE}`, MiB / 2, '10 days ago');
    await fileOf(`${root}/logs/mid.log`, MiB, '3 days ago');
    await fileOf(`${root}/logs/new.log`, MiB);
    await fileOf(`${root}/logs/old.txt`, MiB, '10 days ago');
    await fileOf(`${root}/logs/keep/kept.log`, MiB, '10 days ago');
    await fileOf(`${outside}/target.log`, MiB, '10 days ago');
    await symlink(`${outside}/target.log`, `${root}/logs/link.log`);
    await execa('touch', ['-h', '-d', '10 days ago', `${root}/logs/link.log`]);
    await fileOf(`${fs.mountpoint}/elsewhere/bound-old.log`, MiB, '10 days ago');
    await mkdir(`${root}/logs/bound`);
    await execa('mount', ['--bind', `${fs.mountpoint}/elsewhere`, `${root}/logs/bound`]);
    config = await configOf(fs.dir, [rule()]);
  }, 60_000);

  afterAll(async () => {
    await fs?.cleanup();
  });

  it('refuses a rule rooted at / or /etc at config load, as any config error', async () => {
    for (const bad of ['/', '/etc', '/var/lib', 'relative/logs', '/srv/../etc']) {
      const r = await runPreflight(['remediate', '--config', await configOf(fs.dir, [rule({ root: bad })])]);
      expect(r.exitCode).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^preflight: [^\n]*rules-\d+\.yaml: remediation\.rules\[0\]\.root: expected [^\n]*$/);
    }
  });

  it('plans exactly the files the rule selects, hostile names escaped, changing nothing', async () => {
    const before = await statfsOf(fs.mountpoint);
    const [step, ...more] = await planned(config);
    expect(more).toEqual([]);
    expect(step!.objects.map((o) => o.name).sort()).toEqual(
      [`${root}/logs/deep/old2.log`, `${root}/logs/old1.log`, `${root}/logs/${HOSTILE}`].sort(),
    );
    const md = await runPreflight(['remediate', '--config', config]);
    expect(md.stderr).toBe('');
    expect(md.stdout).toContain('evil\\n\\# x \\| \\`tick\\`.log');
    expect(md.stdout.split('\n').filter((l) => l.startsWith('# x'))).toEqual([]);
    expect((await statfsOf(fs.mountpoint)).used).toBe(before.used);
    expect(await exists(`${root}/logs/old1.log`)).toBe(true);
  });

  it('applies the shorter age only above the pressure threshold', async () => {
    const [below] = await planned(config);
    expect(below!.objects.map((o) => o.name)).not.toContain(`${root}/logs/mid.log`);
    await fillTo(fs.mountpoint, 0.7);
    try {
      const [above] = await planned(config);
      expect(above!.objects.map((o) => o.name)).toContain(`${root}/logs/mid.log`);
      expect(above!.objects.map((o) => o.name)).not.toContain(`${root}/logs/new.log`);
    } finally {
      await rm(`${fs.mountpoint}/filler`);
    }
  });

  it('removes exactly those, frees what it planned within 10%, and leaves the link target and the bind mount alone', async () => {
    const [plan] = await planned(config);
    const expected = (plan as unknown as { expectedBytes: number }).expectedBytes;
    const before = await statfsOf(fs.mountpoint);
    const r = await runPreflight(['remediate', '--apply', '--format', 'json', '--config', config]);
    expect([r.exitCode, r.stderr]).toEqual([0, '']);
    const after = await statfsOf(fs.mountpoint);
    const applied = parseReport(r.stdout).remediationApplied;
    const step = applied.steps.find((s: { kind: string }) => s.kind === 'cleanup-rule');
    expect(step.objects.map((o: { result: string }) => o.result)).toEqual(['removed', 'removed', 'removed']);
    expect(step.measuredBytes).toBe(before.used - after.used);
    expect(Math.abs(before.used - after.used - expected)).toBeLessThanOrEqual(expected * 0.1);
    for (const gone of ['old1.log', 'deep/old2.log', HOSTILE]) expect(await exists(`${root}/logs/${gone}`)).toBe(false);
    for (const kept of ['mid.log', 'new.log', 'old.txt', 'keep/kept.log', 'bound/bound-old.log'])
      expect(await exists(`${root}/logs/${kept}`)).toBe(true);
    expect(await readlink(`${root}/logs/link.log`)).toBe(`${outside}/target.log`);
    expect((await stat(`${outside}/target.log`)).size).toBe(MiB);
  });

  it('rotates a log to exactly its last N lines, atomically, keeping its mode and owner', async () => {
    const log = `${root}/app/events.log`;
    await mkdir(path.dirname(log), { recursive: true });
    const lines = Array.from({ length: 5000 }, (_, i) => `event ${i} ${'x'.repeat(40)}\n`);
    await writeFile(log, lines.join(''));
    await chmod(log, 0o640);
    await chown(log, 1000, 1000);
    const before = await stat(log);
    const cfg = await configOf(fs.dir, [
      {
        name: 'events',
        root,
        match: 'app/events.log',
        action: 'rotate',
        larger_than: '100K',
        keep_lines: 10,
        tier: 'safe',
      },
    ]);
    const r = await runPreflight(['remediate', '--apply', '--format', 'json', '--config', cfg]);
    expect([r.exitCode, r.stderr]).toEqual([0, '']);
    expect(await readFile(log, 'utf8')).toBe(lines.slice(-10).join(''));
    const after = await stat(log);
    expect([after.mode & 0o7777, after.uid, after.gid]).toEqual([0o640, 1000, 1000]);
    expect(after.ino).not.toBe(before.ino);
    const step = parseReport(r.stdout).remediationApplied.steps[0];
    expect(step.objects[0].result).toBe('removed');
  });

  it('says that a truncated file is still open, and by whom', async () => {
    const log = `${root}/app/held.out`;
    await fileOf(log, 3 * MiB);
    const holder = execa('sh', ['-c', 'exec 3>>"$1"; exec sleep 30', 'holder', log], { reject: false });
    await new Promise((r) => setTimeout(r, 300));
    try {
      const cfg = await configOf(fs.dir, [
        { name: 'held', root, match: 'app/*.out', action: 'truncate', larger_than: '1M', tier: 'safe' },
      ]);
      const r = await runPreflight(['remediate', '--apply', '--format', 'json', '--config', cfg]);
      expect([r.exitCode, r.stderr]).toEqual([0, '']);
      const o = parseReport(r.stdout).remediationApplied.steps[0].objects[0];
      expect(o.result).toBe('removed');
      expect(o.detail).toMatch(new RegExp(`truncated while open by pid ${holder.pid} \\(sleep\\)`));
      expect((await stat(log)).size).toBe(0);
    } finally {
      holder.kill('SIGKILL');
      await holder;
    }
  });

  it('does not follow a file or a folder swapped for a symlink between plan and apply', async () => {
    const dir = `${root}/race`;
    await fileOf(`${dir}/a/swapped.log`, MiB, '10 days ago');
    await fileOf(`${dir}/b/inside.log`, MiB, '10 days ago');
    await fileOf(`${outside}/victim.log`, MiB, '10 days ago');
    await fileOf(`${outside}/dir/inside.log`, MiB, '10 days ago');
    const r: CleanupRule = {
      name: 'race',
      root: dir,
      match: '**/*.log',
      action: { kind: 'delete', olderThanMs: 86_400_000, pressure: null },
      protect: [],
      tier: 'safe',
    };
    const scans = await getRuleScans(execRunner, [r], await getMountTable(), [], Date.now() + 10_000);
    const [step] = planRuleSteps(scans, Date.now()).steps;
    expect(step!.objects.map((o) => o.name).sort()).toEqual([`${dir}/a/swapped.log`, `${dir}/b/inside.log`]);
    // The file becomes a link to a file outside; the folder on the way becomes a link to a folder outside with the same name in it.
    await rm(`${dir}/a/swapped.log`);
    await symlink(`${outside}/victim.log`, `${dir}/a/swapped.log`);
    await rename(`${dir}/b`, `${dir}/b-moved`);
    await symlink(`${outside}/dir`, `${dir}/b`);
    const run = await applyRule(execRunner, step!.rule!, step!.objects, '/', Date.now() + 10_000);
    expect(run.objects.map((o) => [o.result, o.detail])).toEqual([
      ['kept', 'now a symbolic link: not followed'],
      ['kept', 'b on the way is now a symbolic link: not followed'],
    ]);
    expect(await exists(`${outside}/victim.log`)).toBe(true);
    expect(await exists(`${outside}/dir/inside.log`)).toBe(true);
    expect(await exists(`${dir}/b-moved/inside.log`)).toBe(true);
  });
});

describeWith(['bindfs', 'mount'], 'clean-up rules beside a FUSE mount whose daemon is stopped (SIGSTOP)', () => {
  let dir = '';
  let bindfsPid = 0;
  beforeAll(async () => {
    dir = await mkdtemp('/tmp/pf-rules-stuck-');
    await fileOf(`${dir}/root/old.log`, 64 * 1024, '10 days ago');
    await fileOf(`${dir}/src/under-the-mount.log`, 64 * 1024, '10 days ago');
    await mkdir(`${dir}/root/hung`);
    // -f: stay in the foreground, so the pid we hold is the FUSE daemon.
    const bindfs = execa('bindfs', ['-f', `${dir}/src`, `${dir}/root/hung`], { reject: false, stdin: 'ignore' });
    bindfsPid = bindfs.pid!;
    for (let i = 0; i < 50 && !(await readFile('/proc/self/mountinfo', 'utf8')).includes(`${dir}/root/hung`); i += 1)
      await new Promise((r) => setTimeout(r, 100));
    process.kill(bindfsPid, 'SIGSTOP');
  });
  afterAll(async () => {
    for (const signal of ['SIGCONT', 'SIGTERM'] as const) {
      try {
        if (bindfsPid) process.kill(bindfsPid, signal);
      } catch {
        /* gone */
      }
      if (signal === 'SIGCONT') await unmountUnder(`${dir}/root/hung`);
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('walks around a hung mount below a root, and a rule rooted on it ends with the run, within its budget', async () => {
    const common = { match: '**/*.log', action: 'delete', older_than: '7d' };
    const cfg = await configOf(dir, [
      { name: 'beside', root: `${dir}/root`, ...common },
      { name: 'on-it', root: `${dir}/root/hung`, ...common },
    ]);
    const r = await runPreflight(['remediate', '--budget', '10', '--format', 'json', '--config', cfg]);
    expect([r.exitCode, r.stderr]).toEqual([0, '']);
    expect(r.elapsedMs).toBeLessThan(11_000);
    const plan = parseReport(r.stdout).remediation.plan;
    const steps = plan.steps.filter((s: { kind: string }) => s.kind === 'cleanup-rule');
    expect(steps.map((s: { objects: { name: string }[] }) => s.objects.map((o) => o.name))).toEqual([
      [`${dir}/root/old.log`],
    ]);
    expect(plan.notes.join('\n')).toMatch(/Rule on-it .*: the walk failed: .*; nothing planned\./);
  }, 30_000);
});
