import { execa } from 'execa';
import { existsSync, readFileSync, statfsSync, statSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEngine } from '../helpers/describe-engine.js';
import { startDockerd, type DockerSandbox } from '../helpers/dockerd.js';
import type { EngineName } from '../helpers/modern-engine.js';
import { parseReport, runPreflight } from '../helpers/preflight.js';
import { logLines } from '../helpers/scenarios.js';
import { formatBytes } from '../../src/text/bytes.js';
import { inline } from '../../src/text/escape.js';

/*
 * Deleted files still held open, on a real dockerd's loop filesystem: a
 * process holding a deleted 300 MiB file, and a container's log deleted
 * under the running daemon. Each is measured before and after the rm in
 * the same scenario, so the test sees the bytes move from where they were
 * (outside-docker, container-logs) to deleted-open, with df's used
 * unchanged; then the plan's own fix is run and statfs says it freed them.
 */

const MiB = 1024 * 1024;

/** statfs used bytes, as df counts them. */
function usedBytes(mount: string): number {
  const s = statfsSync(mount);
  return (s.blocks - s.bfree) * s.bsize;
}

/** Allocated bytes of a file (st_blocks × 512). */
const allocated = (file: string) => statSync(file).blocks * 512;

const sourceOf = (doc: Record<string, any>, kind: string): number =>
  doc.attribution.sources.find((s: any) => s.kind === kind)?.bytes ?? 0;

async function report(s: DockerSandbox, args: readonly string[] = []) {
  const json = await runPreflight(['--format', 'json', ...args], { DOCKER_HOST: s.host });
  expect(json.stderr).toBe('');
  expect(json.exitCode).toBe(0);
  return parseReport(json.stdout);
}

async function markdown(s: DockerSandbox, args: readonly string[] = []) {
  const md = await runPreflight(args, { DOCKER_HOST: s.host });
  expect(md.stderr).toBe('');
  expect(md.exitCode).toBe(0);
  return md.stdout;
}

/** Until `check` holds, polling (a daemon writes logs on its own time). */
async function until(check: () => boolean, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

/** A process that opens `file` on fd 3 and sleeps: `sh -c 'exec 3<file; exec sleep 600'`. Its pid, and how to stop it. */
async function holdOpen(file: string): Promise<{ pid: number; kill: () => void }> {
  const child = execa('sh', ['-c', 'exec 3<"$0"; exec sleep 600', file], { reject: false, stdin: 'ignore' });
  const pid = child.pid!;
  await until(() => existsSync(`/proc/${pid}/fd/3`) && commOf(pid) === 'sleep\n', 'the holder');
  // Not awaited: a returned subprocess would be waited for to its end.
  return { pid, kill: () => void child.kill('SIGKILL') };
}

function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8');
  } catch {
    return '';
  }
}

for (const engine of ['debian', 'newest'] as EngineName[]) {
  describeEngine({ engine, store: 'graphdriver' }, 'deleted files still held open', () => {
    let s: DockerSandbox;
    const holders: { kill: () => void }[] = [];
    beforeAll(async () => {
      s = await startDockerd('overlay2', 3072, { engine });
      await s.buildImage('pf-base:1');
    });
    afterAll(async () => {
      for (const h of holders) h.kill();
      await s?.stop();
    });

    it('a process holding a deleted 300 MiB file: named with its pid, command and bytes; outside-docker gives those bytes up; the plan frees them', async () => {
      const dir = path.join(s.fs.mountpoint, 'outside');
      const file = path.join(dir, 'app.log');
      await mkdir(dir, { recursive: true });
      await execa('dd', ['if=/dev/urandom', `of=${file}`, 'bs=1M', 'count=300', 'status=none']);
      await execa('sync');
      const bytes = allocated(file);
      const holder = await holdOpen(file);
      holders.push(holder);
      const before = await report(s);
      await rm(file);
      await execa('sync');
      const after = await report(s);

      // Named: the file, its holder (pid, command, owner), its bytes within 1% of the file's.
      const held = after.deletedOpen.files.find((f: any) => f.path === file);
      expect(held).toMatchObject({
        mountpoint: s.fs.mountpoint,
        holders: [{ pid: holder.pid, fd: 3 }],
        container: null,
      });
      expect(Math.abs(held.bytes - 300 * MiB)).toBeLessThan(3 * MiB);
      expect(held.bytes).toBe(bytes);
      expect(after.deletedOpen.processes).toContainEqual({ pid: holder.pid, uid: 0, command: 'sleep 600' });

      // The books: df's used did not move (the blocks are still held); the bytes moved from outside-docker to deleted-open.
      const drift = Math.abs(after.attribution.usedBytes - before.attribution.usedBytes);
      expect(drift).toBeLessThan(4 * MiB);
      expect(sourceOf(before, 'deleted-open')).toBe(0);
      expect(sourceOf(after, 'deleted-open')).toBeGreaterThanOrEqual(bytes);
      const outsideDrop = sourceOf(before, 'outside-docker') - sourceOf(after, 'outside-docker');
      expect(Math.abs(outsideDrop - sourceOf(after, 'deleted-open'))).toBeLessThan(4 * MiB);
      expect(after.attribution.unattributedBytes).toBe(0);

      const md = await markdown(s);
      expect(md).toContain(
        `Deleted but still open on ${inline(s.fs.mountpoint)}: 300.0 MiB in 1 file: ${inline(file, 120)} 300.0 MiB held by pid ${holder.pid} \`sleep 600\` (uid 0).`,
      );
      expect(md).toMatch(/\| deleted-open \| 300\.\d MiB \|/);

      // The plan offers the fix, never applied by itself; run as a person would, it frees the bytes.
      const plan = parseReport((await runPreflight(['remediate', '--format', 'json'], { DOCKER_HOST: s.host })).stdout)
        .remediation.plan;
      const step = plan.steps.find((x: any) => x.kind === 'release-deleted-files');
      expect(step).toMatchObject({ tier: 'destructive', expectedBytes: sourceOf(after, 'deleted-open') });
      expect(step.objects).toContainEqual({ id: held.device + ':' + held.inode, name: file, bytes });
      expect(step.cli).toContain(`truncate -s 0 /proc/${holder.pid}/fd/3`);
      const usedHeld = usedBytes(s.fs.mountpoint);
      await execa('sh', ['-c', `truncate -s 0 /proc/${holder.pid}/fd/3`]);
      await execa('sync');
      expect(usedHeld - usedBytes(s.fs.mountpoint)).toBeGreaterThan(bytes - 2 * MiB);
      holder.kill();
    });

    it("a container's log deleted under the running daemon: named as that container's, held by dockerd", async () => {
      const name = 'pf-held-log';
      await logLines(s, name, 2_800_000, true);
      const id = (await s.docker(['inspect', '-f', '{{.Id}}', name])).trim();
      const log = path.join(s.dataRoot, 'containers', id, `${id}-json.log`);
      // The daemon writes the log on its own time: wait until it stops growing.
      let last = -1;
      await until(
        () => {
          const size = existsSync(log) ? statSync(log).size : 0;
          const settled = size > 300e6 && size === last;
          last = size;
          return settled;
        },
        'the log to settle',
        120_000,
      );
      await sleep(500);
      const bytes = allocated(log);
      const before = await report(s);
      await rm(log);
      await execa('sync');
      const after = await report(s);

      const held = after.deletedOpen.files.find((f: any) => f.container?.id === id);
      expect(held).toMatchObject({
        container: { id, name },
        path: expect.stringMatching(new RegExp(`/containers/${id}/${id}-json\\.log$`)),
      });
      expect(Math.abs(held.bytes - bytes) / bytes).toBeLessThan(0.01);
      const daemon = after.deletedOpen.processes.find((p: any) => p.pid === held.holders[0].pid);
      expect(daemon.command).toMatch(/dockerd/);
      // The log's bytes moved from container-logs to deleted-open; outside-docker stayed.
      const moved = sourceOf(before, 'container-logs') - sourceOf(after, 'container-logs');
      expect(Math.abs(moved - held.bytes) / held.bytes).toBeLessThan(0.01);
      expect(Math.abs(sourceOf(after, 'outside-docker') - sourceOf(before, 'outside-docker'))).toBeLessThan(4 * MiB);

      const md = await markdown(s);
      expect(md).toMatch(
        new RegExp(`container ${name}'s log ${formatBytes(held.bytes)} held by pid ${daemon.pid} \`[^\`]*dockerd`),
      );

      const plan = parseReport((await runPreflight(['remediate', '--format', 'json'], { DOCKER_HOST: s.host })).stdout)
        .remediation.plan;
      const step = plan.steps.find((x: any) => x.kind === 'release-deleted-files');
      expect(step.objects).toContainEqual({
        id: `${held.device}:${held.inode}`,
        name: `container ${name}'s log`,
        bytes: held.bytes,
      });
      const fix = `truncate -s 0 /proc/${daemon.pid}/fd/${held.holders[0].fd}`;
      expect(step.cli).toContain(fix);
      const usedHeld = usedBytes(s.fs.mountpoint);
      await execa('sh', ['-c', fix]);
      await execa('sync');
      expect(usedHeld - usedBytes(s.fs.mountpoint)).toBeGreaterThan(held.bytes - 2 * MiB);
      await s.docker(['rm', '-f', name]);
    });

    it('a hostile file name and command line: escaped in the markdown, raw in JSON, no header, figure or table cell of their own', async () => {
      const file = path.join(s.fs.mountpoint, `evil\n## Fake | \`tick\` \u001b[31m Disk: 99% .log`);
      const argv0 = `## Fake cmd\nDisk: 99% | \`x\` \u202e`;
      await execa('dd', ['if=/dev/urandom', `of=${file}`, 'bs=1M', 'count=8', 'status=none']);
      const child = execa('bash', ['-c', 'exec 3<"$0"; exec -a "$1" sleep 600', file, argv0], {
        reject: false,
        stdin: 'ignore',
      });
      holders.push({ kill: () => void child.kill('SIGKILL') });
      await until(() => existsSync(`/proc/${child.pid}/fd/3`) && commOf(child.pid!) === 'sleep\n', 'the holder');
      await rm(file);
      const doc = await report(s);
      const held = doc.deletedOpen.files.find((f: any) => f.path === file);
      expect(held).toMatchObject({ holders: [{ pid: child.pid, fd: 3 }] });
      expect(doc.deletedOpen.processes).toContainEqual({ pid: child.pid, uid: 0, command: `${argv0} 600` });
      const md = await markdown(s);
      expect(md).not.toMatch(/^## Fake/m);
      expect(md).not.toMatch(/^Disk: 99/m);
      expect(md).not.toContain('\u001b');
      expect(md).not.toContain('\u202e');
      const line = md.split('\n').find((l) => l.includes(`held by pid ${child.pid} `)) ?? '';
      // The section's own guard takes `Disk:` out of anything but our Disk line.
      expect(line).toContain(inline(file, 120).replace('Disk:', 'Disk\\:'));
      expect(line).toContain(
        `held by pid ${child.pid} \`\`## Fake cmd\\nDisk\\: 99% \\| \`x\` \\u{202e} 600\`\` (uid 0)`,
      );
      child.kill('SIGKILL');
    });

    it('the largest files beside the biggest directories: as find -xdev sorts them, by allocated bytes, never across a mount, hostile names escaped', async () => {
      const tree = path.join(s.fs.mountpoint, 'tree');
      const nested = path.join(tree, 'nested');
      await mkdir(nested, { recursive: true });
      const hostile = path.join(tree, `evil\n## Fake | \`tick\` \u001b[31m.bin`);
      const write = (file: string, mib: number) =>
        execa('dd', ['if=/dev/urandom', `of=${file}`, 'bs=1M', `count=${mib}`, 'status=none']);
      for (let i = 1; i <= 12; i += 1) await write(path.join(tree, `f${i}.bin`), i);
      await write(path.join(tree, 'forty.bin'), 40);
      await write(hostile, 20);
      // Sparse: 1 GiB apparent, nothing allocated; ranked by what it holds on disk, it is last.
      await execa('truncate', ['-s', '1G', path.join(tree, 'sparse.img')]);
      // Another filesystem inside the tree: its bigger file must not be listed.
      await execa('mount', ['-t', 'tmpfs', '-o', 'size=80m', 'tmpfs', nested]);
      try {
        await write(path.join(nested, 'across.bin'), 60);
        await execa('sync');
        const doc = await report(s, ['--scan-outside']);
        const find = await execa(
          'sh',
          [
            '-c',
            'find "$0" -xdev -path "$1" -prune -o -type f -printf \'%b %s %p\\0\' | sort -z -rn | head -z -n 10',
            s.fs.mountpoint,
            s.dataRoot,
          ],
          { stripFinalNewline: false },
        );
        const expected = String(find.stdout)
          .split('\0')
          .filter(Boolean)
          .map((r) => {
            const [blocks, size, ...rest] = r.split(' ');
            return { path: rest.join(' '), bytes: Number(blocks) * 512, sizeBytes: Number(size) };
          });
        expect(expected).toHaveLength(10);
        expect(doc.largestFiles).toEqual(expected);
        expect(doc.largestFiles[0]).toMatchObject({ path: path.join(tree, 'forty.bin'), bytes: 40 * MiB });
        expect(doc.largestFiles[1]).toMatchObject({ path: hostile, bytes: 20 * MiB });
        const listed = doc.largestFiles.map((f: any) => f.path);
        expect(listed.some((p: string) => p.startsWith(`${nested}/`) || p.startsWith(`${s.dataRoot}/`))).toBe(false);
        expect(listed).not.toContain(path.join(tree, 'sparse.img'));

        const md = await markdown(s, ['--scan-outside']);
        const line = md.split('\n').find((l) => l.startsWith('Outside Docker, largest files: ')) ?? '';
        expect(line).toContain(
          `${inline(path.join(tree, 'forty.bin'), 120)} 40.0 MiB; ${inline(hostile, 120)} 20.0 MiB;`,
        );
        expect(md).not.toMatch(/^## Fake/m);
        expect(md).not.toContain('\u001b');
      } finally {
        await execa('umount', [nested]);
        await rm(tree, { recursive: true, force: true });
      }
    });
  });
}
