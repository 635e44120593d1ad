import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINE_TOOLS, startDockerd, type DockerSandbox } from '../helpers/dockerd.js';
import { parseReport, runPreflight } from '../helpers/preflight.js';
import { describeWith } from '../helpers/describe-with.js';

async function dfBytes(target: string): Promise<number[]> {
  const res = await execa('df', ['-B1', '--output=size,used,avail', target]);
  return String(res.stdout).trim().split('\n')[1]!.trim().split(/\s+/).map(Number);
}

describe.each(['overlay2', 'btrfs'] as const)('Filesystem section against a real %s dockerd', (driver) => {
  describeWith(ENGINE_TOOLS, `dockerd --storage-driver ${driver} on its own loop filesystem`, () => {
    let sandbox: DockerSandbox | undefined;
    beforeAll(async () => {
      sandbox = await startDockerd(driver, driver === 'btrfs' ? 1024 : 1024);
      await sandbox.buildImage('pf-probe:1');
      await sandbox.docker([
        'run',
        '--network',
        'none',
        '--name',
        'writer',
        'pf-probe:1',
        'sh',
        '-c',
        'dd if=/dev/urandom of=/blob bs=1M count=20 2>/dev/null',
      ]);
      await execa('sync');
    });
    afterAll(async () => {
      await sandbox?.stop();
    });

    it("puts the data root's filesystem on the Disk line, to the byte as df -B1", async () => {
      const s = sandbox!;
      const json = parseReport((await runPreflight(['--format', 'json'], { DOCKER_HOST: s.host })).stdout);
      const md = (await runPreflight([], { DOCKER_HOST: s.host })).stdout;
      const [size, used, avail] = await dfBytes(s.dataRoot);
      const row = json.filesystems.find((f: { roles: string[] }) => f.roles.includes('docker-data-root'));
      expect(row).toMatchObject({
        fstype: driver === 'btrfs' ? 'btrfs' : 'ext4',
        sizeBytes: size,
        usedBytes: used,
        availBytes: avail,
      });
      expect(row.inodesUsedPct === null).toBe(driver === 'btrfs');
      expect(json.dockerDataRoot).toMatchObject({ path: s.dataRoot, source: 'api', driver });
      // The container wrote 20 MiB onto this filesystem: it is what dominates it.
      expect(row.usedBytes).toBeGreaterThan(20 * 1024 * 1024);
      expect(md).toContain(`Docker data root: ${s.dataRoot} (driver ${driver}, from the Engine API)`);
      expect(md).toMatch(new RegExp(`^Disk: ${row.usedPct}% used \\(.+ on ${row.mountpoint}\\)$`, 'm'));
    });
  });
});
