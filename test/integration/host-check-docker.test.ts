import { rmSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { hostCheck, hostInstall } from '../../src/commands/host/index.js';
import type { Io } from '../../src/commands/io.js';
import { execRunner } from '../../src/host/exec.js';
import { describeWith } from '../helpers/describe-with.js';
import { ENGINE_TOOLS, startDockerd, type DockerSandbox } from '../helpers/dockerd.js';
import { makeHostTree, type HostTreePaths } from '../helpers/host-tree.js';

/*
 * `host check`'s socket point against a real, sandboxed daemon (run alone:
 * `flock /tmp/pf-engine.lock npx vitest run test/integration/host-check-docker.test.ts`;
 * `npm run build` first, for the live report).
 */
describeWith(ENGINE_TOOLS, 'host check with a real dockerd', () => {
  let sandbox: DockerSandbox | undefined;
  let tree: HostTreePaths | undefined;
  beforeAll(async () => {
    sandbox = await startDockerd('overlay2', 512);
    tree = makeHostTree();
  });
  afterAll(async () => {
    await sandbox?.stop();
    if (tree) rmSync(tree.factoryRoot, { recursive: true, force: true });
  });

  it('passes every point after an install when the socket answers, and the live recipes agree with the gate', async () => {
    const t = tree!;
    const out: string[] = [];
    const io: Io = {
      stdout: (s) => void out.push(s),
      stderr: (s) => void out.push(`stderr: ${s}`),
      env: { DOCKER_HOST: sandbox!.host, OPS_REPO_ROOT: '/srv/ops', PATH: process.env.PATH },
    };
    await hostInstall(t.factoryRoot, t.ourRoot, false, execRunner, { ...io, stdout: () => {} });
    const code = await hostCheck(t.factoryRoot, t.ourRoot, execRunner, io);
    const text = out.join('');
    expect(text).toContain(`ok   Docker answers on ${sandbox!.host.replace('unix://', '')}`);
    expect(text).not.toContain('FAIL');
    expect(code).toBe(0);
  });
});
