import { execa } from 'execa';
import { mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { unmountUnder } from '../helpers/loopfs.js';
import { getMountTable } from '../../src/probes/mountinfo.js';
import { pathLookupCannotHang } from '../../src/host/safe-lookup.js';
import { parseReport, REPO, runPreflight } from '../helpers/preflight.js';
import { describeWith } from '../helpers/describe-with.js';

/** Processes (other than bindfs itself) whose command line names the stuck mount. */
async function blockedOn(dir: string, bindfsPid: number): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === bindfsPid) continue;
    const cmd = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes(dir) && !cmd.includes('vitest')) pids.push(Number(entry));
  }
  return pids;
}

describeWith(['bindfs', 'mount'], 'a FUSE mount whose daemon is stopped (SIGSTOP)', () => {
  let dir = '';
  let bindfsPid = 0;
  /** Holds a file deleted on the mount: stat through its /proc fd link blocks while the daemon is stopped. */
  let holderPid = 0;
  beforeAll(async () => {
    dir = await mkdtemp('/tmp/pf-stuck-');
    await mkdir(path.join(dir, 'src'));
    await mkdir(path.join(dir, 'dst'));
    // -f: stay in the foreground, so the pid we hold is the FUSE daemon. hard_remove: an unlinked open
    // file is deleted, not renamed to .fuse_hidden*, so its holder's fd link says "(deleted)".
    const bindfs = execa('bindfs', ['-f', '-o', 'hard_remove', path.join(dir, 'src'), path.join(dir, 'dst')], {
      reject: false,
      stdin: 'ignore',
    });
    bindfsPid = bindfs.pid!;
    for (let i = 0; i < 50; i += 1) {
      if ((await readFile('/proc/self/mountinfo', 'utf8')).includes(`${dir}/dst`)) break;
      await sleep(100);
    }
    const held = path.join(dir, 'dst', 'held.log');
    await writeFile(held, 'x'.repeat(65536));
    const holder = execa('sh', ['-c', 'exec 3<"$0"; exec sleep 600', held], { reject: false, stdin: 'ignore' });
    holderPid = holder.pid!;
    for (let i = 0; i < 50 && !(await readlink(`/proc/${holderPid}/fd/3`).catch(() => '')); i += 1) await sleep(100);
    await rm(held);
    process.kill(bindfsPid, 'SIGSTOP');
  });
  afterAll(async () => {
    if (bindfsPid) {
      try {
        process.kill(bindfsPid, 'SIGCONT');
      } catch {
        /* gone */
      }
    }
    if (holderPid) process.kill(holderPid, 'SIGKILL');
    await unmountUnder(path.join(dir, 'dst'));
    if (bindfsPid) {
      try {
        process.kill(bindfsPid, 'SIGTERM');
      } catch {
        /* gone */
      }
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('--budget 10 ends within 11 s, marks the mount stuck and leaves no blocked probe behind', async () => {
    const run = await runPreflight(['--budget', '10', '--format', 'json', '--path', `${dir}/dst`]);
    expect(run.exitCode).toBe(0);
    expect(run.elapsedMs).toBeLessThan(11_000);
    const doc = parseReport(run.stdout);
    const stuck = doc.filesystems.find((f: { mountpoint: string }) => f.mountpoint === `${dir}/dst`);
    expect(stuck).toMatchObject({ stuck: true, sizeBytes: null, fstype: expect.stringMatching(/^fuse/) });
    expect(stuck.problem).toMatch(/^statfs gave no answer in \d/);
    expect(doc.sections.find((x: { id: string }) => x.id === 'filesystem')).toMatchObject({
      status: 'degraded',
      reason: '1 mount stuck',
    });
    expect(doc.findings).toContainEqual(expect.objectContaining({ name: 'mount-stuck', severity: 'P3' }));
    // The root filesystem was still measured.
    expect(doc.filesystems.find((f: { mountpoint: string }) => f.mountpoint === '/').sizeBytes).toBeGreaterThan(0);
    await sleep(300);
    expect(await blockedOn(`${dir}/dst`, bindfsPid)).toEqual([]);
  });

  it('a deleted file held open on the mount: the run ends within its budget, says what gave no answer, and leaves no stat behind', async () => {
    const run = await runPreflight(['--budget', '10', '--format', 'json', '--path', `${dir}/dst`]);
    expect(run.exitCode).toBe(0);
    expect(run.elapsedMs).toBeLessThan(11_000);
    const scan = parseReport(run.stdout).deletedOpen;
    expect(scan.problem).toMatch(/^some held files gave no answer in [\d.]+ s \(a hung mount\?\)$/);
    expect(scan.unmeasured).toBeGreaterThanOrEqual(1);
    const md = await runPreflight(['--budget', '10', '--path', `${dir}/dst`]);
    expect(md.stdout).toMatch(
      /^Deleted files still held open: some held files gave no answer in [\d.]+ s \(a hung mount\?\) \(\d+ not measured\)\.$/m,
    );
    await sleep(300);
    // The stat child's own format: any process still running it is one we left blocked.
    const left: number[] = [];
    for (const entry of await readdir('/proc')) {
      const cmd = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
      if (cmd.includes('%n %u %Hd:%Ld')) left.push(Number(entry));
    }
    expect(left).toEqual([]);
  });

  it('the markdown names the stuck mount and still prints the Disk line', async () => {
    const run = await runPreflight(['--budget', '10', '--path', `${dir}/dst`]);
    expect(run.elapsedMs).toBeLessThan(11_000);
    expect(run.stdout).toMatch(/^Disk: \d+% used/m);
    expect(run.stdout).toMatch(new RegExp(`^\\| ${dir}/dst \\|.*STUCK: statfs gave no answer`, 'm'));
  });

  // Each of these once held the process forever: an in-process call on the mount pinned a libuv thread.
  it('guard on the stuck mount exits 2 within its deadline with a clear message', async () => {
    const run = await runPreflight(['guard', '--path', `${dir}/dst/file`, '--need', '1M'], {}, 15_000);
    expect(run.exitCode).toBe(2);
    expect(run.elapsedMs).toBeLessThan(4000);
    expect(run.stderr).toMatch(/statfs gave no answer in 2 s \(stuck mount\?\)/);
  });

  it('a journal (history and day file) on the stuck mount: the run ends within its budget and says so', async () => {
    const run = await runPreflight(
      ['--budget', '6', '--disk-threshold', '1'],
      { OPS_JOURNAL_ROOT: `${dir}/dst/journal` },
      15_000,
    );
    expect(run.exitCode).toBe(0);
    expect(run.elapsedMs).toBeLessThan(7000);
    expect(run.stdout).toMatch(/^\(degraded: history: ETIMEDOUT: no answer in [\d.]+ s \(hung mount\?\)\)$/m);
    expect(run.stdout).toMatch(/Journal: appending to .*\.jsonl failed \(ETIMEDOUT/);
    expect(run.stderr).toBe('');
  });

  it('trend on the stuck mount ends within its budget and says so', async () => {
    const run = await runPreflight(['trend', '--budget', '3'], { OPS_JOURNAL_ROOT: `${dir}/dst/journal` }, 15_000);
    expect(run.exitCode).toBe(0);
    expect(run.elapsedMs).toBeLessThan(4500);
    expect(run.stdout).toMatch(/ETIMEDOUT: no answer in/);
  });

  it('a config file on the stuck mount exits 2 within its deadline', async () => {
    const run = await runPreflight(['--config', `${dir}/dst/preflight.toml`], {}, 15_000);
    expect(run.exitCode).toBe(2);
    expect(run.elapsedMs).toBeLessThan(5000);
    expect(run.stderr).toMatch(/^preflight: --config .*preflight\.toml: ETIMEDOUT: no answer in 3 s \(hung mount\?\)$/);
  });

  it('a DOCKER_HOST socket on the stuck mount: the run ends within its budget and says so', async () => {
    const run = await runPreflight(
      ['--budget', '4', '--no-journal'],
      { DOCKER_HOST: `unix://${dir}/dst/docker.sock` },
      15_000,
    );
    expect(run.exitCode).toBe(0);
    expect(run.elapsedMs).toBeLessThan(5000);
    expect(run.stdout).toMatch(
      /docker: the socket path .*\/dst\/docker\.sock gave no answer in [\d.]+ s \(hung mount\?\)/,
    );
  });

  it('a DOCKER_HOST socket behind a symlink in /tmp that leads onto the stuck mount: the same, and the lookup never enters it', async () => {
    const link = path.join(dir, 'link.sock');
    await symlink(`${dir}/dst/docker.sock`, link);
    const table = await getMountTable();
    const started = Date.now();
    // In-process: it decides from the mount table, and stops at the stuck mount without looking inside.
    expect(await pathLookupCannotHang(link, table)).toBe(false);
    expect(await pathLookupCannotHang(`${dir}/dst/docker.sock`, table)).toBe(false);
    expect(await pathLookupCannotHang(`${dir}/missing/docker.sock`, table)).toBe(true);
    expect(Date.now() - started).toBeLessThan(1000);
    const run = await runPreflight(['--budget', '4', '--no-journal'], { DOCKER_HOST: `unix://${link}` }, 15_000);
    expect(run.exitCode).toBe(0);
    expect(run.elapsedMs).toBeLessThan(5000);
    expect(run.stdout).toMatch(/docker: the socket path .*\/link\.sock gave no answer in [\d.]+ s \(hung mount\?\)/);
    expect(run.stderr).toBe('');
  });

  // Node by absolute path: the launcher's `#!/usr/bin/env node` would itself hang on such a PATH, before any code of ours.
  it('a PATH entry on the stuck mount: the run ends within its budget', async () => {
    const started = Date.now();
    const run = await execa(
      process.execPath,
      [path.join(REPO, 'dist/preflight.cjs'), '--budget', '4', '--no-journal'],
      {
        reject: false,
        timeout: 15_000,
        env: { PATH: `${dir}/dst/bin:/usr/local/bin:/usr/bin:/bin`, DOCKER_HOST: 'unix:///nonexistent/docker.sock' },
      },
    );
    expect(run.exitCode).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(String(run.stdout)).toContain('## Filesystem');
  });

  it('--journal-keep-days with a stuck folder in the journal root still prints the report, exit 0', async () => {
    const root = await mkdtemp('/tmp/pf-keep-');
    try {
      await execa('mount', ['--bind', `${dir}/dst`, `${root}`]).catch(() => undefined);
      const run = await runPreflight(
        ['--budget', '6', '--journal-keep-days', '30'],
        { OPS_JOURNAL_ROOT: root },
        15_000,
      );
      expect(run.exitCode).toBe(0);
      expect(run.elapsedMs).toBeLessThan(7000);
      expect(run.stdout).toContain('## Storage Pressure');
    } finally {
      await execa('umount', ['-l', root], { reject: false });
      await rm(root, { recursive: true, force: true });
    }
  });
});
