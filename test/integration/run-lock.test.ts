import { execa } from 'execa';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readlink, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { childrenOf } from '../../src/host/exec.js';
import { lockHolder, startPreflight, until, windowOf } from '../helpers/live-run.js';
import { describeWith } from '../helpers/describe-with.js';
import { parseReport, PREFLIGHT, REPO, runPreflight } from '../helpers/preflight.js';

/*
 * The run lock of one-shot runs (what cron or a systemd timer starts): a
 * held lock is waited for within the budget, a dead holder's is broken, and
 * a signal releases it.
 */

let temp: string;
let holder: ChildProcess | null = null;
const lockPath = () => path.join(temp, 'storage-preflight-run.lock');

/** /proc/<pid>/stat field 22, as the lock records it. */
function startTime(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
}

/** The lock taken by a live process that is not preflight (a `sleep`). */
async function holdLock(): Promise<number> {
  holder = spawn('sleep', ['60'], { stdio: 'ignore' });
  await symlink(`${holder.pid} ${startTime(holder.pid!)}`, lockPath());
  return holder.pid!;
}

beforeEach(async () => {
  temp = await mkdtemp(path.join(tmpdir(), 'pf-runlock-'));
});
afterEach(async () => {
  holder?.kill('SIGKILL');
  holder = null;
  await rm(temp, { recursive: true, force: true });
});

describe('the run lock of one-shot runs', () => {
  it('a run waits at most half its budget for a live holder, then exits 5 with one line and nothing measured', async () => {
    const pid = await holdLock();
    for (const argv of [
      ['--budget', '2'],
      ['remediate', '--budget', '2'],
    ]) {
      const run = await runPreflight([...argv, '--no-journal'], { TMPDIR: temp });
      expect(run.exitCode).toBe(5);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(
        new RegExp(
          `^preflight: another preflight run \\(pid ${pid}\\) holds .*storage-preflight-run\\.lock; gave up after 1(\\.\\d)? s, nothing was measured$`,
        ),
      );
      expect(run.stderr.split('\n')).toHaveLength(1);
    }
    // A live holder's lock is never broken.
    expect(await readlink(lockPath())).toBe(`${pid} ${startTime(pid)}`);
  });

  it('a run takes the lock as soon as it is released, and the wait counts against its budget', async () => {
    await holdLock();
    const released = new Promise<number>((resolve) =>
      setTimeout(() => void unlink(lockPath()).then(() => resolve(Date.now())), 1500),
    );
    const run = await runPreflight(['--budget', '6', '--no-journal', '--format', 'json'], { TMPDIR: temp });
    expect(run.exitCode).toBe(0);
    expect(run.stderr).toBe('');
    expect(windowOf(parseReport(run.stdout)).start).toBeGreaterThanOrEqual(await released);
    expect(run.elapsedMs).toBeLessThan(6000 + 1500);
    expect(existsSync(lockPath())).toBe(false);
  });

  it("a dead holder's lock is stale: broken at once", async () => {
    const gone = spawn('true');
    await new Promise((r) => gone.on('exit', r));
    await symlink(`${gone.pid} 12345`, lockPath());
    const run = await runPreflight(['--budget', '10', '--no-journal'], { TMPDIR: temp });
    expect(run.exitCode).toBe(0);
    expect(run.elapsedMs).toBeLessThan(5000);
    expect(existsSync(lockPath())).toBe(false);
  });

  it.skipIf(process.getuid?.() !== 0)(
    "a lock root left in a shared, sticky TMPDIR is not uid 65534's: its run locks in a folder of its own and runs",
    async () => {
      await chmod(temp, 0o1777);
      await symlink('999999 1', lockPath());
      // systemd's runtime folder for the user: theirs, 0700.
      const own = path.join(temp, 'xdg');
      await mkdir(own, { mode: 0o700 });
      await execa('chown', ['65534:65534', own]);
      const run = await execa(
        'setpriv',
        ['--reuid=65534', '--regid=65534', '--clear-groups', PREFLIGHT, '--budget', '2', '--no-journal'],
        {
          reject: false,
          timeout: 20_000,
          cwd: REPO,
          env: {
            ...process.env,
            TMPDIR: temp,
            HOME: temp,
            XDG_RUNTIME_DIR: own,
            DOCKER_HOST: 'unix:///nonexistent/docker.sock',
          },
        },
      );
      expect(run.stderr).toBe('');
      expect(run.exitCode).toBe(0);
      // Root's entry is left alone; the run locked in its own folder.
      expect(await readlink(lockPath())).toBe('999999 1');
      expect(statSync(path.join(own, 'storage-preflight')).uid).toBe(65534);
    },
  );

  it('trend and guard take no lock: they run while another run holds it', async () => {
    await holdLock();
    const trend = await runPreflight(['trend', '--budget', '2'], { TMPDIR: temp });
    expect(trend.exitCode).toBe(0);
    const guard = await runPreflight(['guard', '--path', '/', '--need', '1'], { TMPDIR: temp });
    expect(guard.exitCode).toBe(0);
  });
});

describeWith(['mount', 'umount'], 'a one-shot run cut by a signal', () => {
  let shims: string;
  beforeAll(async () => {
    // A `stat` that never answers, as on a hung mount: the run's statfs probe is then a live child when the signal comes.
    shims = await mkdtemp(path.join(tmpdir(), 'pf-shims-'));
    await writeFile(path.join(shims, 'stat'), '#!/bin/sh\nexec sleep 30\n', { mode: 0o755 });
    // A --path on a mount of its own (a bind mount): `/` is measured in-process, this one by the statfs child.
    await execa('mount', ['--bind', shims, shims]);
  });
  afterAll(async () => {
    await execa('umount', ['-l', shims], { reject: false });
    await rm(shims, { recursive: true, force: true });
  });

  it.each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const)(
    '%s: exits %i within a second, lock released, its probes killed, one line on stderr',
    async (signal, code) => {
      const run = startPreflight(['--no-journal', '--path', shims], {
        TMPDIR: temp,
        PATH: `${shims}:${process.env.PATH}`,
      });
      const stuck = () => processesIn(childrenOf(run.pid)).filter((p) => p.comm === 'sleep');
      await until(
        () => lockHolder(lockPath()) === run.pid && stuck().length > 0,
        20_000,
        'the run holding the lock, its statfs probe stuck',
      );
      const groups = childrenOf(run.pid);
      const stopped = await run.stop(signal);
      expect(stopped.ms).toBeLessThan(1000);
      expect(stopped.code).toBe(code);
      expect(existsSync(lockPath())).toBe(false);
      expect(run.stdout()).toBe('');
      expect(run.stderr()).toBe(
        `preflight: stopped by ${signal} before the report was printed (the run lock is released)\n`,
      );
      // Not one process is left in the process groups of its probes (the shim's sleep included).
      await until(() => processesIn(groups).length === 0, 2000, "the cut run's probes to be gone");
    },
  );
});

/** Live processes (not zombies) whose process group is one of `groups`, with their command names. */
function processesIn(groups: number[]): { pid: number; comm: string }[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .flatMap((pid) => {
      try {
        // Sample: `4242 (sleep) S 4240 4241 …`: state, parent, process group.
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        return state !== 'Z' && groups.includes(Number(pgrp)) ? [{ pid: Number(pid), comm }] : [];
      } catch {
        return [];
      }
    });
}
