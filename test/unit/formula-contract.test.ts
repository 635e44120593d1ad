import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { parseCliArgs } from '../../src/cli/args.js';
import { COMMANDS } from '../../src/cli/flags.js';
import { commandHelp } from '../../src/cli/help.js';
import { ACTION_FORMULA, actionProblems } from '../../src/run/escalation/actions.js';
import { SOURCE_LABELS } from '../../src/model/attribution.js';
import { DEFAULT_POLICY } from '../../src/model/remediation/policy.js';
import { RUNNER_STEPS } from '../../src/model/vault-action.js';
import { FINDING_NAMES, FINDING_SEVERITY } from '../../src/model/findings.js';
import { APPLIED_SECTION } from '../../src/render/applied.js';
import { SECTIONS } from '../../src/sections/registry.js';

/**
 * The formulas name our sections, flags, commands, finding names, plan
 * steps and paths. This test ties each name to the code, so that renaming
 * one breaks the build instead of the host's prompt.
 */

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const FORMULAS = ['formulas/run-supervisor.toml', 'formulas/storage-remediation.toml'];

/** The host's formula schema (DESIGN.md, "The host it plugs into"): these keys and no other. */
const TOP_KEYS = ['name', 'description', 'version', 'model', 'context', 'steps'];
const CONTEXT_KEYS = ['files'];
const STEP_KEYS = ['id', 'title', 'description', 'needs'];
/** The host's own step ids for its supervisor, in its order. */
const SUPERVISOR_STEPS = ['preflight', 'health-assessment', 'decide-actions', 'report', 'incidents', 'journal'];
/** The host's vault action schema: required, then optional keys. */
const ACTION_REQUIRED = ['id', 'formula', 'context', 'secrets'];
const ACTION_OPTIONAL = ['mounts', 'model', 'tools', 'timeout_minutes', 'dispatch_mode', 'blast_radius'];

/** `## ` titles that are not ours: the host's preflight sections, its journal heading, a vault item's sections. */
const HOST_TITLES = new Set([
  'System Resources',
  'Docker',
  'Supervisor run',
  'What',
  'Why',
  'Unblocks',
  'Human Action',
  'Factory Will Then',
]);

const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const OUR_TITLES = new Set([...SECTIONS.map((s) => s.title), APPLIED_SECTION.title]);

/** Code spans, one line each (a formula keeps every span on its line). */
const spans = (text: string) => [...text.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!);
const outsideSpans = (text: string) => text.replace(/`[^`\n]+`/g, ' ');

/** From each command's --help: the flags it lists (what it parses, since both come from one table). */
const HELP_VERBS = new Map(
  COMMANDS.map((c) => [
    c.name as string,
    new Set((commandHelp(c.name).match(/^ {2}(?:-\w, )?--[a-z][a-z-]*/gm) ?? []).map((m) => m.slice(m.indexOf('--')))),
  ]),
);
const HELP_FLAGS = new Set([...HELP_VERBS.values()].flatMap((flags) => [...flags]));

interface Formula {
  path: string;
  text: string;
  data: Record<string, unknown>;
}
const formulas: Formula[] = FORMULAS.map((path) => ({
  path,
  text: read(path),
  data: parse(read(path)) as Record<string, unknown>,
}));

describe('the formulas follow the host schema', () => {
  it.each(FORMULAS)('%s: required keys with their types, no other key', (path) => {
    const f = formulas.find((x) => x.path === path)!.data;
    expect(Object.keys(f).filter((k) => !TOP_KEYS.includes(k))).toEqual([]);
    expect(f.name).toBe(basename(path, '.toml'));
    for (const key of ['name', 'description', 'model'])
      expect(typeof f[key] === 'string' && (f[key] as string).length > 0, key).toBe(true);
    expect(Number.isInteger(Number(f.version)) && typeof f.version !== 'string', 'version is an integer').toBe(true);
    const context = f.context as Record<string, unknown>;
    expect(Object.keys(context).filter((k) => !CONTEXT_KEYS.includes(k))).toEqual([]);
    expect(Array.isArray(context.files) && (context.files as unknown[]).every((x) => typeof x === 'string')).toBe(true);

    const steps = f.steps as Record<string, unknown>[];
    expect(steps.length).toBeGreaterThan(0);
    const seen = new Set<string>();
    for (const step of steps) {
      expect(Object.keys(step).sort()).toEqual([...STEP_KEYS].sort());
      for (const key of ['id', 'title', 'description'])
        expect(
          typeof step[key] === 'string' && (step[key] as string).trim().length > 0,
          `${String(step.id)}.${key}`,
        ).toBe(true);
      const needs = step.needs as unknown[];
      expect(Array.isArray(needs) && needs.every((n) => typeof n === 'string')).toBe(true);
      // Each need is an earlier step: the ids exist and the order has no cycle.
      for (const n of needs) expect(seen.has(n as string), `${String(step.id)} needs ${String(n)}`).toBe(true);
      expect(seen.has(step.id as string), `duplicate step ${String(step.id)}`).toBe(false);
      seen.add(step.id as string);
    }
  });

  it("run-supervisor has the host's steps, each needing the one before", () => {
    const steps = formulas[0]!.data.steps as { id: string; needs: string[] }[];
    expect(steps.map((s) => s.id)).toEqual(SUPERVISOR_STEPS);
    expect(steps.map((s) => s.needs)).toEqual(SUPERVISOR_STEPS.map((_, i) => (i ? [SUPERVISOR_STEPS[i - 1]] : [])));
  });

  it('the vault action example in formulas/README.md is valid and names an existing formula', () => {
    const block = /```toml\n([\s\S]*?)```/.exec(read('formulas/README.md'));
    expect(block, 'a ```toml vault action example').not.toBeNull();
    const action = parse(block![1]!) as Record<string, unknown>;
    expect(Object.keys(action).filter((k) => !ACTION_REQUIRED.includes(k) && !ACTION_OPTIONAL.includes(k))).toEqual([]);
    for (const key of ACTION_REQUIRED) expect(action, key).toHaveProperty(key);
    expect(existsSync(join(ROOT, 'formulas', `${String(action.formula)}.toml`))).toBe(true);
    expect(actionProblems(action)).toEqual([]);
  });

  it('the action TOMLs --escalate writes name a formula we ship', () => {
    expect(existsSync(join(ROOT, 'formulas', `${ACTION_FORMULA}.toml`))).toBe(true);
  });
});

/** Our step that `preflight host install` adds to the host's own formula: not a whole formula, held to the same names. */
const STORAGE_STEPS = 'integrations/run-supervisor-storage.toml';
const storageSteps: Formula = { path: STORAGE_STEPS, text: read(STORAGE_STEPS), data: parse(read(STORAGE_STEPS)) };

describe.each([...formulas, storageSteps])('$path names only what exists', ({ path, text }) => {
  it('keeps every code span on one line', () => {
    for (const [i, line] of text.split('\n').entries())
      expect((line.match(/`/g) ?? []).length % 2, `line ${i + 1}: ${line}`).toBe(0);
  });

  it("names only the tool's section titles (or the host's)", () => {
    const titles = [...text.matchAll(/(?<![#\w])## ([A-Z][\w-]*(?: [A-Za-z][\w-]*)*)/g)].map((m) => m[1]!);
    expect(titles.length).toBeGreaterThan(0);
    expect(titles.filter((t) => !OUR_TITLES.has(t) && !HOST_TITLES.has(t))).toEqual([]);
  });

  it('runs only real commands with the flags their --help lists, and parses', () => {
    const runs = spans(text).filter((s) => /^(?:\S*\/)?preflight(?:\s|$)/.test(s));
    // The runner has no checkout of ours: only the supervisor's formula (and our step of it) runs preflight.
    if (path === 'formulas/run-supervisor.toml' || path === STORAGE_STEPS) expect(runs.length).toBeGreaterThan(0);
    else expect(runs).toEqual([]);
    for (const run of runs) {
      const args = run.split(/\s+/).slice(1);
      const verb = args[0] && !args[0].startsWith('-') ? args[0] : 'report';
      expect(HELP_VERBS.has(verb), `\`${run}\`: preflight ${verb} is not a command with --help`).toBe(true);
      for (const flag of args.filter((a) => a.startsWith('--')).map((a) => a.split('=')[0]!)) {
        expect(HELP_VERBS.get(verb)!.has(flag), `\`${run}\`: 'preflight ${verb} --help' lists no ${flag}`).toBe(true);
      }
      expect(() => parseCliArgs(args), run).not.toThrow();
    }
    // A command outside a code span would escape these checks.
    expect(
      outsideSpans(text).match(/(?:^|\s)(?:\.\/)?preflight\s+(?:--|(?:report|trend|guard|remediate|watch)\b)/gm),
    ).toBeNull();
  });

  it('names only flags that some --help lists', () => {
    const named = [
      ...spans(text)
        .filter((s) => s.startsWith('--'))
        .map((s) => s.split(/[\s=]/)[0]!),
      ...(outsideSpans(text).match(/(?<![\w-])--[a-z][a-z-]*/g) ?? []),
    ];
    expect(named.filter((f) => !HELP_FLAGS.has(f))).toEqual([]);
  });

  it('names only finding names, plan steps and sources the tool has', () => {
    const known = new Set<string>([...FINDING_NAMES, ...allStepKinds(), ...Object.keys(SOURCE_LABELS)]);
    const names = spans(text).filter((s) => /^[a-z][a-z0-9]*(?:-[a-z0-9]+)+$/.test(s));
    expect(names.filter((n) => !known.has(n))).toEqual([]);
    // A priority list ("P1 `disk-high`, `disk-critical`") gives each finding its own severity.
    for (const m of text.matchAll(/\b(P[0-4]) (`[a-z0-9-]+`(?:, `[a-z0-9-]+`)*)/g)) {
      for (const name of m[2]!.match(/[a-z0-9-]+/g)!) {
        if (name in FINDING_SEVERITY)
          expect(`${name} ${FINDING_SEVERITY[name as keyof typeof FINDING_SEVERITY]}`).toBe(`${name} ${m[1]}`);
      }
    }
  });

  it('names only repository paths and formulas that exist', () => {
    const ourDirs = new Set(
      readdirSync(ROOT, { withFileTypes: true })
        .filter((d) => d.isDirectory() && !['node_modules', 'dist', '.git'].includes(d.name))
        .map((d) => d.name),
    );
    const paths = [...text.matchAll(/(?<![\w/$.{}<>~-])((?:[\w.-]+\/)+[\w.-]*\w)/g)]
      .map((m) => m[1]!)
      .filter((p) => ourDirs.has(p.split('/')[0]!));
    expect(paths.length).toBeGreaterThan(0);
    expect(paths.filter((p) => !existsSync(join(ROOT, p)))).toEqual([]);
    for (const m of text.matchAll(/formula = "([\w-]+)"/g))
      expect(existsSync(join(ROOT, 'formulas', `${m[1]}.toml`)), m[1]).toBe(true);
  });
});

describe('the formulas cover what the tool can raise', () => {
  it('run-supervisor gives every finding its priority', () => {
    const text = formulas[0]!.text;
    expect(FINDING_NAMES.filter((n) => !text.includes(`\`${n}\``))).toEqual([]);
  });

  it("the storage step for the host's formula gives every finding its priority, in steps of the host's schema", () => {
    expect(FINDING_NAMES.filter((n) => !storageSteps.text.includes(`\`${n}\``))).toEqual([]);
    for (const step of storageSteps.data.steps as Record<string, unknown>[]) {
      expect(Object.keys(step).sort()).toEqual([...STEP_KEYS].sort());
      expect(SUPERVISOR_STEPS).toEqual(expect.arrayContaining(step.needs as string[]));
    }
  });

  it('storage-remediation handles every destructive step of the plan', () => {
    const text = formulas[1]!.text;
    expect(destructiveKinds().length).toBeGreaterThan(0);
    expect(destructiveKinds().filter((k) => !text.includes(k))).toEqual([]);
  });
});

/** What the runner image has (the host's agents image, run with `--entrypoint bash`): no docker CLI, no sudo. */
const RUNNER_PROGRAMS = new Set(['curl', 'jq', 'python3', 'echo', '[[']);

describe('storage-remediation runs in the runner', () => {
  const text = formulas[1]!.text;
  /** The commands: spans that use the socket, the volume or the action file. */
  const commands = spans(text).filter((s) => /\$(SOCK|V|VAULT_ACTION_TOML)\b/.test(s));

  it('uses only programs the runner has, the socket for Docker, and never a docker CLI, force or prune', () => {
    expect(commands.length).toBeGreaterThanOrEqual(5);
    // Sample: `curl -sf --unix-socket "$SOCK" http://docker/_ping` → curl.
    // Quoted jq filters hold pipes of their own: blanked before the shell's are split on.
    const programs = commands.flatMap((c) =>
      c
        .replace(/'[^']*'/g, "''")
        .split(/\|\|?|&&/)
        .map((part) => part.trim().split(/\s+/)[0]!),
    );
    expect(programs.filter((p) => !RUNNER_PROGRAMS.has(p))).toEqual([]);
    for (const c of commands.filter((x) => x.startsWith('curl'))) expect(c).toContain('--unix-socket "$SOCK"');
    expect(spans(text).filter((s) => /^(sudo|systemctl|docker)\s/.test(s))).toEqual([]);
    expect(commands.filter((c) => /force=1|\/prune/.test(c))).toEqual([]);
  });

  it('re-checks the keep label the plan honours, and no container using the volume, before a DELETE', () => {
    const order = ['storage-preflight.keep', 'containers/json', '-X DELETE'].map((k) => text.indexOf(k));
    expect(order.every((i) => i > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(DEFAULT_POLICY.keepLabels).toEqual(['storage-preflight.keep']);
  });

  it('acts only on the kinds the runner can do, and refuses the others by name', () => {
    for (const kind of RUNNER_STEPS) expect(text).toContain(`the kind is not \`${kind}\``);
    for (const kind of destructiveKinds().filter((k) => !RUNNER_STEPS.has(k as never)))
      expect(text).toContain(`\`${kind}\``);
  });
});

/** Plan step kinds are a type: read them from the plan's source. */
function allStepKinds(): string[] {
  const union = /export type StepKind =([^;]+);/.exec(read('src/model/remediation/plan.ts'))?.[1] ?? '';
  return [...union.matchAll(/'([a-z0-9-]+)'/g)].map((m) => m[1]!);
}

function destructiveKinds(): string[] {
  return [...read('src/model/remediation/plan.ts').matchAll(/kind: '([a-z0-9-]+)',\s*tier: 'destructive'/g)].map(
    (m) => m[1]!,
  );
}
