import { execa } from 'execa';
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'smol-toml';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Escalation } from '../../src/model/escalation.js';
import type { PlanStep } from '../../src/model/remediation/plan.js';
import { actionDocument } from '../../src/run/escalation/actions.js';
import { describeWith } from '../helpers/describe-with.js';
import { ENGINE_TOOLS, startDockerd, type DockerSandbox } from '../helpers/dockerd.js';
import { engineGet } from '../helpers/engine-api.js';
import { REPO } from '../helpers/preflight.js';
import { buildRunnerImage } from '../helpers/runner-image.js';

/*
 * The remediation formula's own commands, taken from the TOML, run the way
 * the host's runner has them: bash, curl, jq and python3 on PATH and nothing
 * else (no docker CLI, no checkout of ours), the socket, and a read-only ops
 * folder holding the action: first in a shell here, then in a FROM-scratch
 * container holding only those programs, with the socket and the ops folder
 * bind-mounted. Against a real daemon: only the unused volume goes.
 */

/** The formula's command spans, from its parsed steps (TOML escapes undone). */
async function formulaCommands(): Promise<string[]> {
  const f = parse(await readFile(path.join(REPO, 'formulas/storage-remediation.toml'), 'utf8')) as {
    steps: { description: string }[];
  };
  const text = f.steps.map((s) => s.description).join('\n');
  return [...text.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!).filter((s) => /\$(SOCK|V|VAULT_ACTION_TOML)\b/.test(s));
}

/**
 * The act step as the formula says it: per volume (the arguments), each
 * check in order, the first that does not print its word skips it; else
 * the DELETE. Prints `<name>: skipped at <n>: <what it printed>` or `<name>: DELETE <status>`.
 */
function formulaScript(commands: readonly string[]): string {
  const checks = [
    [pick(commands, '=~'), 'ok'],
    [pick(commands, 'storage-preflight.keep'), 'none'],
    [pick(commands, 'containers/json'), '0'],
  ];
  return [
    'for V in "$@"; do',
    ...checks.map(
      ([c, want], i) =>
        `  o=$(${c}); [ "$o" = ${want} ] || { echo "$V: skipped at ${i + 1}: \${o:-(nothing)}"; continue; }`,
    ),
    `  echo "$V: DELETE $(${pick(commands, '-X DELETE')})"`,
    'done',
  ].join('\n');
}

/** The one command that holds `marker`. */
function pick(commands: readonly string[], marker: string): string {
  const found = commands.filter((c) => c.includes(marker));
  expect(found, marker).toHaveLength(1);
  return found[0]!;
}

describeWith(
  [...ENGINE_TOOLS, '/usr/bin/curl', '/usr/bin/jq', '/usr/bin/python3'],
  "the remediation formula's commands in a runner-like shell, on a real dockerd",
  () => {
    let s: DockerSandbox;
    let scratch: string;
    let bin: string;
    let actionFile: string;
    let commands: string[];
    /** Run one formula command as the runner would: its PATH, its socket, the action file. */
    const sh = async (command: string, vars: Record<string, string> = {}, args: string[] = []) => {
      const r = await execa(path.join(bin, 'bash'), ['-c', command, '_', ...args], {
        reject: false,
        env: { PATH: bin, SOCK: s.socket, VAULT_ACTION_TOML: actionFile, ...vars },
        extendEnv: false,
      });
      return { out: r.stdout.trim(), code: r.exitCode };
    };

    beforeAll(async () => {
      s = await startDockerd('overlay2', 1024);
      scratch = await mkdtemp(path.join(tmpdir(), 'pf-formula-'));
      await s.buildImage('pf-base:1');
      // Used by a stopped container; unused; unused but labelled to keep.
      await s.writeIn({ image: 'pf-base:1', name: 'pf-stopped', volume: 'pf-used:/v', file: '/v/f', mib: 2 });
      await s.writeIn({ image: 'pf-base:1', volume: 'pf-unused:/v', file: '/v/f', mib: 3 });
      await s.docker(['volume', 'create', '--label', 'storage-preflight.keep=1', 'pf-kept']);

      // The runner's programs: bash, curl, jq, python3; no docker.
      bin = path.join(scratch, 'bin');
      await mkdir(bin);
      // Debian's own binaries, as in the agents image (a version manager's shim is a script needing more tools).
      for (const p of ['bash', 'curl', 'jq', 'python3']) await symlink(path.join('/usr/bin', p), path.join(bin, p));

      // The ops repo as the runner mounts it, read-only, holding the approved action.
      const step: PlanStep = {
        kind: 'remove-volumes',
        tier: 'destructive',
        title: 'remove 3 volumes no container uses',
        action: 'DELETE /volumes/{name}',
        cli: 'docker volume rm pf-used pf-unused pf-kept',
        objects: ['pf-used', 'pf-unused', 'pf-kept'].map((id) => ({ id, name: id, bytes: 0 })),
        expectedBytes: 3 * 1024 ** 2,
        why: 'volumes hold data',
      };
      const e = { slug: 'storage-disk-space-x', mountpoint: '/x', approvable: [step] } as unknown as Escalation;
      const doc = actionDocument(e, step, '/ops/vault/pending/supervisor-storage-disk-space-x.md', new Date());
      const actions = path.join(scratch, 'ops', 'vault', 'actions');
      await mkdir(actions, { recursive: true });
      actionFile = path.join(actions, `${String(doc.id)}.toml`);
      await writeFile(actionFile, stringify(doc));
      await chmod(actionFile, 0o444);
      await chmod(actions, 0o555);
      commands = await formulaCommands();
    }, 240_000);

    afterAll(async () => {
      await s?.stop();
      if (scratch) {
        await chmod(path.join(scratch, 'ops', 'vault', 'actions'), 0o755).catch(() => {});
        await rm(scratch, { recursive: true, force: true });
      }
    });

    it('has no docker CLI, and the daemon answers through the socket', async () => {
      expect((await sh('command -v docker')).code).not.toBe(0);
      expect((await sh(pick(commands, '/_ping'))).out).toBe('OK');
    });

    it('reads the kind and the objects from the action file', async () => {
      const context = (await sh(pick(commands, 'tomllib'))).out;
      expect(context).toMatch(/^Kind: remove-volumes$/m);
      expect(context).toMatch(/^Objects \(3\): pf-used pf-unused pf-kept$/m);
    });

    it('notes each volume size, then removes only the volume nothing uses and nobody keeps', async () => {
      const sizes = JSON.parse((await sh(pick(commands, 'system/df'))).out) as { name: string; size: number }[];
      expect(sizes.find((v) => v.name === 'pf-unused')?.size).toBeGreaterThanOrEqual(3 * 1024 ** 2);

      const outcome = Object.fromEntries(
        (await sh(formulaScript(commands), {}, ['pf-used', 'pf-unused', 'pf-kept', 'no-such-volume', '../x'])).out
          .split('\n')
          .map((l) => [l.slice(0, l.indexOf(': ')), l.slice(l.indexOf(': ') + 2)]),
      );
      expect(outcome).toEqual({
        'pf-used': 'skipped at 3: 1',
        'pf-unused': 'DELETE 204',
        'pf-kept': 'skipped at 2: 1',
        'no-such-volume': 'skipped at 2: (nothing)',
        '../x': 'skipped at 1: (nothing)',
      });
      // Had the re-check been skipped, the daemon itself refuses a volume in use (no force).
      expect((await sh(pick(commands, '-X DELETE'), { V: 'pf-used' })).out).toBe('409');

      const volumes = (await engineGet(s.socket, '/v1.41/volumes')).Volumes.map((v: any) => v.Name).sort();
      expect(volumes).toEqual(['pf-kept', 'pf-used']);
      const containers = await engineGet(s.socket, '/v1.41/containers/json?all=1');
      expect(containers.map((c: any) => c.Names[0])).toContain('/pf-stopped');
    });

    it('in a container standing for the runner: the socket and a read-only ops repo mounted, no docker CLI', async () => {
      await buildRunnerImage(s, 'pf-runner:1', scratch);
      await s.writeIn({ image: 'pf-base:1', name: 'pf-stopped2', volume: 'pf-used2:/v', file: '/v/f', mib: 1 });
      await s.writeIn({ image: 'pf-base:1', volume: 'pf-unused2:/v', file: '/v/f', mib: 1 });
      const script = [
        'echo "docker: $(command -v docker || echo none)"',
        `echo "ping: $(${pick(commands, '/_ping')})"`,
        pick(commands, 'tomllib'),
        'touch "$VAULT_ACTION_TOML" 2>/dev/null || echo "ops: read-only"',
        formulaScript(commands),
      ].join('\n');
      const out = await s.docker([
        'run',
        '--rm',
        '--network',
        'none',
        '-v',
        `${s.socket}:/var/run/docker.sock`,
        '-v',
        `${path.join(scratch, 'ops')}:/home/agent/ops:ro`,
        '-e',
        'SOCK=/var/run/docker.sock',
        '-e',
        `VAULT_ACTION_TOML=/home/agent/ops/vault/actions/${path.basename(actionFile)}`,
        'pf-runner:1',
        '/usr/bin/bash',
        '-c',
        script,
        '_',
        'pf-used2',
        'pf-unused2',
        'pf-kept',
      ]);
      expect(out.trim().split('\n')).toEqual([
        'docker: none',
        'ping: OK',
        expect.stringMatching(/^Approved from vault item /),
        'Kind: remove-volumes',
        expect.stringMatching(/^Step: /),
        expect.stringMatching(/^How: /),
        'Objects (3): pf-used pf-unused pf-kept',
        expect.stringMatching(/^Re-check each object/),
        'ops: read-only',
        'pf-used2: skipped at 3: 1',
        'pf-unused2: DELETE 204',
        'pf-kept: skipped at 2: 1',
      ]);
      const volumes = (await engineGet(s.socket, '/v1.41/volumes')).Volumes.map((v: any) => v.Name).sort();
      expect(volumes).toEqual(['pf-kept', 'pf-used', 'pf-used2']);
    }, 180_000);
  },
);
