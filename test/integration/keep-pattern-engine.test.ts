import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith } from '../helpers/describe-with.js';
import { ENGINE_TOOLS, startDockerd, type DockerSandbox } from '../helpers/dockerd.js';
import { parseReport, runPreflight } from '../helpers/preflight.js';

const BUDGET_S = 10;
const MARGIN_MS = 3000;
/** 40 `a`s: `^(a+)+$` against `<this>:latest` took RegExp 107 s, and SIGTERM waited for it. */
const REPO_40A = 'a'.repeat(40);

describeWith(ENGINE_TOOLS, 'keep_image_patterns on a real daemon: a pattern that backtracks in RegExp', () => {
  let s: DockerSandbox;
  let dir: string;
  beforeAll(async () => {
    s = await startDockerd('overlay2', 512);
    dir = await mkdtemp(path.join(tmpdir(), 'pf-keep-pattern-'));
    // Bytes of its own, so that keeping it shows in the plan's figures.
    await s.buildImage(`${REPO_40A}:latest`, ['COPY own /own'], { own: randomBytes(256 * 1024).toString('base64') });
  });
  afterAll(async () => {
    await s?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** The plan's reasons the image stays, from `remediate` with this keep pattern. */
  async function planWith(pattern: string) {
    const file = path.join(dir, 'keep.yaml');
    await writeFile(file, `remediation:\n  keep_image_patterns: [${JSON.stringify(pattern)}]\n`);
    const run = await runPreflight(
      [
        'remediate',
        '--min-age',
        '0s',
        '--format',
        'json',
        '--no-journal',
        '--budget',
        String(BUDGET_S),
        '--config',
        file,
      ],
      { DOCKER_HOST: s.host },
      (BUDGET_S + 150) * 1000,
    );
    expect(run.elapsedMs, run.stderr).toBeLessThan(BUDGET_S * 1000 + MARGIN_MS);
    expect(run.exitCode, run.stderr).toBe(0);
    return (parseReport(run.stdout).remediation.plan.cannotFree as { reason: string }[]).map((c) => c.reason);
  }

  it('ends within the budget when the pattern does not match, and the image is not protected', async () => {
    const reasons = await planWith('^(a+)+$');
    expect(reasons).not.toContain('protected by a keep label or image pattern');
    expect(reasons.join('\n')).toContain(`unused image ${REPO_40A}:latest`);
  });

  it('and protects the image when it does match', async () => {
    expect(await planWith('^(a+)+:latest$')).toContain('protected by a keep label or image pattern');
  });
});
