import { execa } from 'execa';
import { lstatSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { acquireApplyLock, acquireRunLock } from '../../src/host/lock.js';
import { lockFolder } from '../../src/host/lock-dir.js';
import { RunLockedError } from '../../src/model/errors.js';
import { parseReport, PREFLIGHT, REPO, runPreflight } from '../helpers/preflight.js';

/*
 * The locks against another local user: whatever they plant where the locks
 * used to live (a FIFO, a symlink naming a live pid, garbage, a folder of
 * their own at our folder's name), a root run neither hangs nor waits nor is
 * refused. Planted by a real unprivileged user (uid 65534, through setpriv).
 */

const asNobody = (argv: string[], env: NodeJS.ProcessEnv = {}) =>
  execa('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', ...argv], {
    reject: false,
    timeout: 30_000,
    cwd: REPO,
    env: { ...process.env, ...env },
  });

const LOCK_NAMES = ['storage-preflight-run.lock', 'storage-preflight-apply.lock'];

/** As uid 65534, in `dir`: a FIFO at the run lock's name, a symlink to pid 1 at the apply lock's, and our folders' names taken. */
async function plantAsNobody(dir: string): Promise<void> {
  const script = `cd "$1" && mkfifo storage-preflight-run.lock && ln -s 1 storage-preflight-apply.lock && mkdir storage-preflight-0 && mkfifo storage-preflight-0/storage-preflight-run.lock && ln -s 'garbage' storage-preflight-run.lock.break`;
  const r = await asNobody(['sh', '-c', script, 'plant', dir]);
  expect(r.stderr).toBe('');
  expect(r.exitCode).toBe(0);
  for (const name of LOCK_NAMES) expect(lstatSync(path.join(dir, name)).uid).toBe(65534);
}

describe.skipIf(process.getuid?.() !== 0)('locks another user planted (as root, against uid 65534)', () => {
  let shared: string;
  beforeAll(async () => {
    await execa('setpriv', ['--version']);
  });
  afterEach(async () => {
    await rm(shared, { recursive: true, force: true });
  });

  it('a shared, sticky TMPDIR with a FIFO, a symlink to pid 1 and our folder name taken: root locks in /run/storage-preflight at once', async () => {
    shared = await mkdtemp(path.join(tmpdir(), 'pf-shared-'));
    await chmod(shared, 0o1777);
    await plantAsNobody(shared);
    expect(lockFolder({ TMPDIR: shared }, 0)).toBe('/run/storage-preflight');
    const run = await acquireRunLock(0, undefined, undefined);
    const apply = await acquireApplyLock(undefined, 0);
    expect(path.dirname(run.path)).toBe(lockFolder());
    await apply.release();
    await run.release();
    const st = lstatSync('/run/storage-preflight');
    expect(st.uid).toBe(0);
    expect(st.mode & 0o777).toBe(0o700);
  });

  it('./preflight with TMPDIR a shared folder another user filled: a report, exit 0, within the budget, nothing on stderr', async () => {
    shared = await mkdtemp(path.join(tmpdir(), 'pf-shared-'));
    await chmod(shared, 0o1777);
    await plantAsNobody(shared);
    const run = await runPreflight(['--budget', '6', '--no-journal', '--format', 'json'], { TMPDIR: shared }, 20_000);
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    expect(parseReport(run.stdout).filesystems).toBeDefined();
    expect(run.elapsedMs).toBeLessThan(6000 + 2000);
  });

  it('./preflight with TMPDIR unset and the old /tmp names planted: the same (the locks are no longer in /tmp)', async () => {
    shared = await mkdtemp(path.join(tmpdir(), 'pf-shared-'));
    const planted = LOCK_NAMES.map((n) => path.join('/tmp', n)).filter(
      (f) => lstatSync(f, { throwIfNoEntry: false }) === undefined,
    );
    try {
      for (const f of planted) expect((await asNobody(['mkfifo', f])).exitCode).toBe(0);
      const run = await runPreflight(['--budget', '6', '--no-journal'], { TMPDIR: undefined }, 20_000);
      expect(run.stderr).toBe('');
      expect(run.exitCode).toBe(0);
      expect(run.stdout).toMatch(/^## /m);
    } finally {
      for (const f of planted) await rm(f, { force: true });
    }
  });
});

describe.skipIf(process.getuid?.() !== 0)("a user's own lock folder", () => {
  let base: string;
  beforeAll(async () => {
    base = await mkdtemp(path.join(tmpdir(), 'pf-lockdir-'));
    await chmod(base, 0o755);
  });
  afterAll(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it("entries that name no live run of ours (a FIFO, garbage, root's symlink to pid 1) are broken at once, never waited on", async () => {
    const mine = path.join(base, 'mine');
    await mkdir(mine, { mode: 0o700 });
    await execa('chown', ['65534:65534', mine]);
    // Root plants in uid 65534's folder: a symlink naming a live pid (1) is not a lock of this user's.
    await symlink('1', path.join(mine, 'storage-preflight-run.lock'));
    await asNobody(['mkfifo', path.join(mine, 'storage-preflight-apply.lock')]);
    const run = await asNobody([PREFLIGHT, '--budget', '4', '--no-journal'], {
      TMPDIR: mine,
      HOME: mine,
      DOCKER_HOST: 'unix:///nonexistent/docker.sock',
    });
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
  });

  it('a folder another user owns is passed over; with every candidate taken, one line and exit 5, at once', async () => {
    const theirs = path.join(base, 'theirs');
    await mkdir(theirs, { mode: 0o700 });
    // XDG_RUNTIME_DIR's folder and /tmp's both made by root before uid 65534 could.
    const runtime = path.join(base, 'runtime');
    await mkdir(path.join(runtime, 'storage-preflight'), { recursive: true, mode: 0o700 });
    await chmod(runtime, 0o1777);
    const tmpName = '/tmp/storage-preflight-65534';
    const made = lstatSync(tmpName, { throwIfNoEntry: false }) === undefined;
    if (made) await mkdir(tmpName, { mode: 0o700 });
    try {
      if (lstatSync(tmpName).uid === 65534) return; // the machine's own; nothing to prove here
      const run = await asNobody([PREFLIGHT, '--budget', '4', '--no-journal'], {
        TMPDIR: theirs,
        XDG_RUNTIME_DIR: runtime,
        HOME: base,
        DOCKER_HOST: 'unix:///nonexistent/docker.sock',
      });
      expect(run.exitCode).toBe(5);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(
        /^preflight: no folder only this user can write for the locks \(.*storage-preflight: owned by uid 0; \/tmp\/storage-preflight-65534: owned by uid 0\): set TMPDIR to one; nothing was measured$/,
      );
    } finally {
      if (made) await rm(tmpName, { recursive: true, force: true });
    }
  });

  it('a TMPDIR writable by others, or a symlink to a private folder, is not used for the locks', async () => {
    const open = path.join(base, 'open');
    await mkdir(open, { mode: 0o700 });
    await chmod(open, 0o777);
    const privateOne = path.join(base, 'private');
    await mkdir(privateOne, { mode: 0o700 });
    const link = path.join(base, 'link');
    await symlink(privateOne, link);
    expect(lockFolder({ TMPDIR: privateOne }, 0)).toBe(privateOne);
    expect(lockFolder({ TMPDIR: open }, 0)).toBe('/run/storage-preflight');
    expect(lockFolder({ TMPDIR: link }, 0)).toBe('/run/storage-preflight');
    expect(new RunLockedError('', { kind: 'no-folder', reason: 'no folder' }).message).toBe(
      'no folder; nothing was measured',
    );
  });
});
