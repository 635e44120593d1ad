import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEngine } from '../helpers/describe-engine.js';
import { startDockerd, type DockerSandbox } from '../helpers/dockerd.js';
import { makeLoopFs, type LoopFs } from '../helpers/loopfs.js';
import { parseReport, runPreflight } from '../helpers/preflight.js';
import { statfsOf } from '../helpers/statfs.js';

const MiB = 1024 * 1024;

/*
 * containerd's root on a filesystem of its own, as on a host whose
 * /var/lib/containerd is another disk than /var/lib/docker: the images' and
 * containers' bytes are there, not on the data root's filesystem.
 */
describe('containerd on its own filesystem', () => {
  describeEngine(
    { engine: 'newest', store: 'containerd' },
    "the data root and containerd's root on two loop filesystems",
    () => {
      let s: DockerSandbox;
      let other: LoopFs;
      let doc: Record<string, any>;
      let md: string;
      beforeAll(async () => {
        other = await makeLoopFs({ fstype: 'ext4', sizeMiB: 1024 });
        s = await startDockerd('overlay2', 1024, { engine: 'newest', store: 'containerd', containerdFs: other });
        await s.buildImage('pf-base:1');
        await s.writeIn({ image: 'pf-base:1', name: 'pf-writer', file: '/f', mib: 40 });
        await s.docker(['volume', 'create', 'pf-vol']);
        await s.writeIn({ image: 'pf-base:1', volume: 'pf-vol:/v', file: '/v/f', mib: 10 });
        await execa('sync');
        doc = parseReport((await runPreflight(['--format', 'json', '--no-journal'], { DOCKER_HOST: s.host })).stdout);
        md = (await runPreflight(['--no-journal'], { DOCKER_HOST: s.host })).stdout;
      });
      afterAll(async () => {
        await s?.stop();
      });

      it("finds containerd's root from the daemon's answer and measures its filesystem", () => {
        expect(s.containerdRoot?.startsWith(other.mountpoint)).toBe(true);
        expect(doc.docker.containerd).toMatchObject({ root: s.containerdRoot, problem: null });
        expect(doc.docker.containerd.via).toMatch(/^containerd \(pid \d+, config .*containerd\.toml\)$/);
        const row = doc.filesystems.find((f: any) => f.roles.includes('containerd-root'));
        expect(row.mountpoint).toBe(other.mountpoint);
        expect(row.roles).not.toContain('docker-data-root');
        expect(md).toMatch(new RegExp(`\\| ${other.mountpoint} \\|.*\\| containerd's root \\|$`, 'm'));
      });

      it('splits each filesystem by what lies on it', async () => {
        const data = doc.attribution;
        const c8d = doc.containerdAttribution;
        expect(data.mountpoint).toBe(s.fs.mountpoint);
        expect(c8d.mountpoint).toBe(other.mountpoint);
        const kinds = (a: any) => Object.fromEntries(a.sources.map((x: any) => [x.kind, x.bytes]));
        // The writer's 40 MiB writable layer is on containerd's filesystem, its volume on the data root's.
        expect(kinds(c8d).containers).toBeGreaterThanOrEqual(40 * MiB);
        expect(kinds(c8d).volumes).toBeUndefined();
        expect(kinds(data).volumes).toBe(10 * MiB);
        expect(kinds(data).containers).toBeUndefined();
        expect(kinds(data).images).toBeUndefined();
        for (const [a, fs] of [
          [data, s.fs],
          [c8d, other],
        ] as const) {
          expect(a.usedBytes).toBe((await statfsOf(fs.mountpoint)).used);
          expect(a.unattributedBytes).toBe(0);
          expect(kinds(a)['outside-docker']).toBeLessThanOrEqual(a.usedBytes * 0.01);
        }
        expect(md).toContain(`containerd's root lies on ${other.mountpoint}`);
      });
    },
  );
});
