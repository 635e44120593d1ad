import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { acquireApplyLock } from '../../src/host/lock.js';
import type { PlanStep, RemediationPlan } from '../../src/model/remediation/plan.js';
import { parseDockerHost } from '../../src/parse/docker-host.js';
import { execRunner } from '../../src/host/exec.js';
import { applyPlan, shellDeps } from '../../src/run/apply/apply.js';
import { appliedMarkdown } from '../../src/render/applied.js';
import { describeWith } from '../helpers/describe-with.js';
import { ENGINE_TOOLS, startDockerd, type DockerSandbox } from '../helpers/dockerd.js';
import { engineGet } from '../helpers/engine-api.js';
import { holdingProxy } from '../helpers/holding-proxy.js';
import { parseReport, runPreflight } from '../helpers/preflight.js';

/*
 * Between the plan and each deletion the world moves on: the apply inspects
 * each object right before its DELETE and keeps what no longer meets the
 * plan's reason. The plan is made by ./preflight (a dry run), the world is
 * changed, then that plan is applied through the real actuators.
 */
describeWith(
  ENGINE_TOOLS,
  'remediate --apply re-checks each object right before deleting it (real overlay2 dockerd)',
  () => {
    let s: DockerSandbox;
    let scratch: string;
    beforeAll(async () => {
      s = await startDockerd('overlay2', 1024);
      scratch = await mkdtemp(path.join(tmpdir(), 'pf-recheck-'));
      await s.buildImage('pf-base:1');
      // Three builds of one tag: two dangling images.
      for (let v = 0; v < 3; v += 1)
        await s.buildImage('pf-app:latest', ['COPY stamp /stamp'], {
          stamp: randomBytes(64 * 1024).toString('base64'),
        });
    });
    afterAll(async () => {
      await s?.stop();
      if (scratch) await rm(scratch, { recursive: true, force: true });
    });

    /** The dry run's plan (every age 0 s, target 1%), reduced to one step and, if named, to some of its objects. */
    async function planned(kind: PlanStep['kind'], names?: readonly string[]): Promise<RemediationPlan> {
      const run = await runPreflight(
        ['remediate', '--min-age', '0s', '--target-pct', '1', '--format', 'json', '--no-journal'],
        { DOCKER_HOST: s.host, TMPDIR: scratch },
      );
      expect(run.exitCode, run.stderr).toBe(0);
      const plan: RemediationPlan = parseReport(run.stdout).remediation.plan;
      const step = plan.steps.find((x) => x.kind === kind)!;
      expect(step, JSON.stringify(plan.steps.map((x) => x.kind))).toBeDefined();
      const objects = names ? step.objects.filter((o) => names.includes(o.name)) : step.objects;
      return { ...plan, steps: [{ ...step, objects }] };
    }

    const apply = (
      plan: RemediationPlan,
      host = s.host,
      deadline = Date.now() + 30_000,
      tier: 'safe' | 'moderate' = 'safe',
    ) =>
      applyPlan(
        plan,
        tier,
        deadline,
        shellDeps({
          run: execRunner,
          docker: parseDockerHost(host),
          apiVersion: '1.41',
          mountpoint: s.fs.mountpoint,
          fstype: 'ext4',
          lock: () => acquireApplyLock(path.join(scratch, 'storage-preflight-apply.lock')),
        }),
      );
    const exists = async (what: 'containers' | 'images', id: string) =>
      (await engineGet(s.socket, `/v1.41/${what}/${id}/json`)).Id !== undefined;

    it('a planned container started again and exited before the apply survives, reported kept: changed since the plan', async () => {
      await s.docker([
        'run',
        '--network',
        'none',
        '--name',
        'pf-restarted',
        'pf-base:1',
        'sh',
        '-c',
        'echo run >> /runs',
      ]);
      await s.docker(['run', '--network', 'none', '--name', 'pf-done', 'pf-base:1', 'true']);
      const plan = await planned('remove-containers');
      expect(plan.steps[0]!.objects.map((o) => o.name).sort()).toEqual(['pf-done', 'pf-restarted']);
      expect(plan.steps[0]!.recheck).toMatchObject({ what: 'exited-container', graceMs: 0 });
      // Between the plan and the apply: started, and exited again (start -a waits for the exit).
      await s.docker(['start', '-a', 'pf-restarted']);
      const r = await apply(plan);
      const objects = r.steps[0]!.objects;
      expect(objects.find((o) => o.name === 'pf-restarted')).toMatchObject({
        result: 'kept',
        changed: true,
        detail: expect.stringMatching(
          /^changed since the plan: (started|exited) again [\d.]+ (ms|s|min) after the plan$/,
        ),
      });
      expect(objects.find((o) => o.name === 'pf-done')).toMatchObject({ result: 'removed' });
      expect(await exists('containers', 'pf-restarted')).toBe(true);
      // Its writable layer too: both runs' lines.
      expect(await s.docker(['cp', 'pf-restarted:/runs', '-'])).toContain('run\nrun\n');
      const md = appliedMarkdown(r).join('\n');
      expect(md).toMatch(
        /\| (1 removed, 1 kept \(changed since the plan\)|1 kept \(changed since the plan\), 1 removed) \|/,
      );
      expect(md).toMatch(/Not removed: pf-restarted kept: changed since the plan: (started|exited) again /);
      expect(r.short.find((x) => x.kind === 'changed')).toMatchObject({
        text: expect.stringMatching(/^1 object changed since the plan, kept \(/),
      });
    });

    it('a planned dangling image that a new container uses, or that was tagged, after the plan is kept', async () => {
      const plan = await planned('remove-dangling-images');
      const [used, tagged] = plan.steps[0]!.objects.map((o) => o.id);
      expect(plan.steps[0]!.objects).toHaveLength(2);
      await s.docker([
        'run',
        '-d',
        '--network',
        'none',
        '--name',
        'pf-late-user',
        used!.replace(/^sha256:/, ''),
        'sleep',
        '3600',
      ]);
      await s.docker(['tag', tagged!.replace(/^sha256:/, ''), 'pf-rescued:1']);
      const r = await apply(plan);
      expect(r.steps[0]!.objects.map((o) => [o.id, o.result, o.changed, o.detail])).toEqual([
        [used, 'kept', true, 'changed since the plan: used by container pf-late-user'],
        [tagged, 'kept', true, 'changed since the plan: tagged pf-rescued:1'],
      ]);
      expect(await exists('images', used!)).toBe(true);
      expect(await exists('images', tagged!)).toBe(true);
    });

    /** A container planned for removal whose DELETE a proxy leaves unanswered: its object result, and whether it is still there. */
    async function unanswered(name: string, mode: 'hold' | 'drop') {
      await s.docker(['run', '--network', 'none', '--name', name, 'pf-base:1', 'true']);
      const plan = await planned('remove-containers', [name]);
      const socket = path.join(scratch, 'p.sock');
      const proxy = await holdingProxy(s.socket, socket, mode);
      try {
        // The step's calls get what is left of a 4 s apply (about 3 s): the answer never comes.
        const r = await apply(plan, `unix://${socket}`, Date.now() + 4000);
        expect(proxy.deletes).toBe(1);
        return { object: r.steps[0]!.objects[0]!, there: await exists('containers', name) };
      } finally {
        await proxy.close();
      }
    }

    it('a DELETE the daemon did but never answered in time is reported removed, not failed', async () => {
      const { object, there } = await unanswered('pf-held', 'hold');
      expect(object).toMatchObject({
        name: 'pf-held',
        result: 'removed',
        detail: 'the daemon finished it after the wait',
      });
      expect(there).toBe(false);
    });

    it('a DELETE the daemon never got is failed, saying how long it waited in the unit that fits, and the container stays', async () => {
      const { object, there } = await unanswered('pf-dropped', 'drop');
      expect(object).toMatchObject({
        name: 'pf-dropped',
        result: 'failed',
        detail: expect.stringMatching(/^no answer in (\d{1,3} ms|\d(\.\d)? s); still there after it$/),
      });
      expect(there).toBe(true);
    });

    it('a /build/prune BuildKit did but never answered in time is reported removed for what is no longer listed; one it never got stays, failed', async () => {
      for (const mode of ['drop', 'hold'] as const) {
        // Every record, whatever BuildKit's reserve: the moderate step.
        const plan = await planned('prune-all-build-cache');
        const ids = plan.steps[0]!.objects.map((o) => o.id);
        expect(ids.length).toBeGreaterThan(0);
        const socket = path.join(scratch, 'p.sock');
        const proxy = await holdingProxy(s.socket, socket, mode);
        try {
          const r = await apply(plan, `unix://${socket}`, Date.now() + 4000, 'moderate');
          expect(proxy.deletes).toBe(1);
          const results = r.steps[0]!.objects.map((o) => [o.result, o.detail]);
          const listed = new Set(
            ((await engineGet(s.socket, '/v1.41/system/df')).BuildCache as { ID: string }[]).map((x) => x.ID),
          );
          for (const [i, id] of ids.entries()) {
            expect(results[i]).toEqual(
              listed.has(id)
                ? [
                    'failed',
                    expect.stringMatching(
                      /^no answer in (\d{1,3} ms|\d(\.\d)? s); still listed after it \(the daemon may still finish it\)$/,
                    ),
                  ]
                : ['removed', 'BuildKit finished it after the wait'],
            );
            if (mode === 'drop') expect(listed.has(id)).toBe(true);
          }
          if (mode === 'hold') expect(ids.some((id) => !listed.has(id))).toBe(true);
        } finally {
          await proxy.close();
        }
      }
    });
  },
);
