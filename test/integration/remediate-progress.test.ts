import { execa } from 'execa';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PREFLIGHT, REPO, runPreflight } from '../helpers/preflight.js';

/*
 * `remediate --apply` on a real pseudo-terminal (util-linux `script`), with
 * no Docker daemon: the plan has no step, the apply still measures and says
 * so as it goes. The per-step lines are driven through the loop's fakes in
 * test/unit/remediation-apply.test.ts.
 */

let temp: string;
let env: NodeJS.ProcessEnv;
beforeEach(async () => {
  temp = await mkdtemp(path.join(tmpdir(), 'pf-progress-'));
  env = { TMPDIR: temp, DOCKER_HOST: 'unix:///nonexistent/docker.sock' };
});
afterEach(async () => {
  await rm(temp, { recursive: true, force: true });
});

/** Figures move between two runs (the disk is shared): compare the text, not the numbers. */
const shape = (text: string) => text.replace(/\d+(\.\d+)?/g, 'N');
const PROGRESS = /^(remediate --apply: |\[\d+\/\d+\] )/;

describe('remediate --apply and a terminal (script(1) from util-linux)', () => {
  it('on a terminal: progress lines as it goes, then the report; no crash', async () => {
    const tty = await execa('script', ['-qec', `${PREFLIGHT} remediate --apply --no-journal`, '/dev/null'], {
      cwd: REPO,
      env: { ...process.env, ...env },
      reject: false,
      stdin: 'ignore',
      timeout: 90_000,
    });
    expect(tty.exitCode).toBe(0);
    const lines = String(tty.stdout).replace(/\r\n/g, '\n').split('\n');
    expect(lines.filter((l) => PROGRESS.test(l))).toEqual([
      expect.stringMatching(/^remediate --apply: measuring and planning \(at most 30\.0 s\)$/),
      expect.stringMatching(
        /^remediate --apply: \/ \d+% used \([\d.]+ \w+ of [\d.]+ \w+\), target \d+%; 0 steps up to --max-tier safe$/,
      ),
      expect.stringMatching(
        // Steps above the tier (a person's) are said as not run: this machine's own may plan one.
        /^remediate --apply: (already at the target, nothing to run|every step up to the tier ran)(; \d+ steps? not run)?$/,
      ),
    ]);
    // The progress comes first; the report follows whole.
    expect(lines.slice(0, 3).every((l) => PROGRESS.test(l))).toBe(true);
    expect(lines).toContain('## Remediation Applied');

    // Without a terminal: not one byte of it, and the same report.
    const piped = await runPreflight(['remediate', '--apply', '--no-journal'], env);
    expect(piped.exitCode).toBe(0);
    expect(piped.stderr).toBe('');
    expect(piped.stdout.split('\n').some((l) => PROGRESS.test(l))).toBe(false);
    expect(shape(piped.stdout)).toBe(
      shape(
        lines
          .filter((l) => !PROGRESS.test(l))
          .join('\n')
          .trimEnd(),
      ),
    );
  });

  it('on a terminal, a dry run and a report print no progress', async () => {
    for (const argv of ['remediate --no-journal', '--no-journal']) {
      const tty = await execa('script', ['-qec', `${PREFLIGHT} ${argv}`, '/dev/null'], {
        cwd: REPO,
        env: { ...process.env, ...env },
        reject: false,
        stdin: 'ignore',
        timeout: 90_000,
      });
      expect(tty.exitCode).toBe(0);
      expect(
        String(tty.stdout)
          .split(/\r?\n/)
          .some((l) => PROGRESS.test(l)),
        argv,
      ).toBe(false);
    }
  });
});
