import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith } from '../helpers/describe-with.js';
import { ENGINE_TOOLS, startDockerd, type DockerSandbox } from '../helpers/dockerd.js';
import { runPreflight } from '../helpers/preflight.js';

/*
 * What differs between two runs over the same state, and why:
 * - the host's own `/` (its row, its pressure ratio, the deleted files its
 *   processes hold open): other processes on this machine write to it; the
 *   daemon's data root is a loop filesystem of its own;
 * - the clock: the day in `Rebuild churn by day` and the hour slots of the
 *   `Used % last 24 h` sparklines.
 * Everything else must print the same bytes.
 */
function normalise(md: string): string {
  return md
    .replace(/^\| \/ \|.*$/gm, "| / | (the host's own /) |")
    .replace(/^Deleted but still open on \/: .*\n/gm, '')
    .replace(/(Pressure \(used \/ capacity\): )\/ [\d.]+/, '$1/ (host)')
    .replace(/^(Rebuild churn by day: )\d{4}-\d\d-\d\d/m, '$1(today)');
}

describeWith(ENGINE_TOOLS, 'two runs against an unchanged real daemon', () => {
  let s: DockerSandbox;
  beforeAll(async () => {
    s = await startDockerd('overlay2', 2048);
    await s.buildImage('pf-base:1');
    // Objects of equal size: the daemon lists volumes and images in map order, which changes between calls.
    for (let i = 0; i < 8; i += 1) await s.docker(['volume', 'create', `pf-same-${i}`]);
    for (let i = 0; i < 6; i += 1) await s.docker(['tag', 'pf-base:1', `pf-tag${i}:1`]);
    for (let i = 0; i < 6; i += 1)
      await s.docker(['create', '--network', 'none', '--name', `pf-idle-${i}`, 'pf-base:1', 'true']);
  });
  afterAll(async () => {
    await s?.stop();
  });

  it("print the same markdown, but for the host's / and the clock", async () => {
    const runs = [];
    for (let i = 0; i < 3; i += 1) runs.push((await runPreflight([], { DOCKER_HOST: s.host })).stdout);
    expect(runs[0]).toMatch(/^Largest volumes: pf-same-0 0 B \(unused\); pf-same-1 0 B/m);
    expect(normalise(runs[1]!)).toBe(normalise(runs[0]!));
    expect(normalise(runs[2]!)).toBe(normalise(runs[0]!));
  });
});
