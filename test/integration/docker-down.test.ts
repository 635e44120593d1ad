import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith } from '../helpers/describe-with.js';
import { ENGINE_TOOLS, startDockerd, type DockerSandbox } from '../helpers/dockerd.js';
import { parseReport, runPreflight } from '../helpers/preflight.js';

/**
 * A daemon that goes down between two runs (a restart, a crash): its data
 * root is not the default one, so only the history still knows where it is.
 */
describeWith(ENGINE_TOOLS, 'a real dockerd that stops between runs', () => {
  let sandbox: DockerSandbox | undefined;
  let journal = '';
  beforeAll(async () => {
    sandbox = await startDockerd('overlay2', 512);
    journal = await mkdtemp(path.join(tmpdir(), 'pf-down-'));
  });
  afterAll(async () => {
    await sandbox?.stop();
    await rm(journal, { recursive: true, force: true });
  });

  it('keeps measuring the data root from history, fires docker-unreachable, and recovers nothing', async () => {
    const s = sandbox!;
    const env = { DOCKER_HOST: s.host, OPS_JOURNAL_ROOT: journal };
    // --disk-threshold 0.5: disk-high fires on the data root's filesystem while the daemon is up.
    const up = parseReport((await runPreflight(['--format', 'json', '--disk-threshold', '0.5'], env)).stdout);
    const dataFs = up.filesystems.find((f: { roles: string[] }) => f.roles.includes('docker-data-root'));
    expect(dataFs.mountpoint).toBe(s.fs.mountpoint);
    expect(up.findings, JSON.stringify(up.findings)).toContainEqual(
      expect.objectContaining({ name: 'disk-high', mountpoint: s.fs.mountpoint }),
    );

    process.kill(s.pid, 'SIGTERM');
    for (
      let i = 0;
      i < 100 &&
      (await readFile(`/proc/${s.pid}/status`, 'utf8').then(
        (t) => !/^State:\s+Z/m.test(t),
        () => false,
      ));
      i += 1
    )
      await sleep(100);

    const down = parseReport((await runPreflight(['--format', 'json', '--disk-threshold', '0.5'], env)).stdout);
    expect(down.dockerDataRoot).toMatchObject({ path: s.dataRoot, source: 'history' });
    const stillThere = down.filesystems.find((f: { roles: string[] }) => f.roles.includes('docker-data-root'));
    expect(stillThere?.mountpoint).toBe(s.fs.mountpoint);
    expect(down.findings).toContainEqual(expect.objectContaining({ name: 'docker-unreachable', severity: 'P2' }));
    expect(down.findings).toContainEqual(expect.objectContaining({ name: 'disk-high', mountpoint: s.fs.mountpoint }));
    expect(down.trend.alerts).not.toContainEqual(expect.objectContaining({ state: 'recovered' }));
    const md = (await runPreflight(['--disk-threshold', '0.5'], env)).stdout;
    expect(md).toMatch(new RegExp(`^Disk: \\d+% used \\(.+ on ${s.fs.mountpoint}\\)$`, 'm'));
    expect(md).not.toContain('No Docker here');
    expect(md).not.toMatch(/recovered/);
    const day = await readFile(path.join(journal, `${new Date().toISOString().slice(0, 10)}.md`), 'utf8');
    expect(day).not.toMatch(/cleared/);
    expect(day).toMatch(/raised P2 docker-unreachable/);
  });
});
