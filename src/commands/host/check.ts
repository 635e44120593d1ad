import path from 'node:path';
import type { Runner } from '../../host/exec.js';
import { dockerGet } from '../../host/docker-api.js';
import { errorMessage } from '../../model/errors.js';
import type { FiredEntry } from '../../model/gate.js';
import { evaluate, wakesLlm, type HostRecipe } from '../../model/recipe-evaluate.js';
import { parseDockerHost } from '../../parse/docker-host.js';
import { socketAccess } from '../../probes/docker-socket.js';
import { blockIn, blockInsideFinalIf, placeBlock } from '../../render/host-kit/block-place.js';
import { extendFormula, stepIds } from '../../render/host-kit/formula-extend.js';
import { recipesIn } from '../../render/host-kit/recipes-merge.js';
import { EXIT, type Io } from '../io.js';
import {
  bashSyntax,
  FACTORY_ROOTS,
  HOST_FILES,
  ourKit,
  readHostTree,
  REMEDIATION_FORMULA,
  WRAPPER_SCRIPT,
  type HostTree,
  type OurKit,
} from './kit.js';

/* `preflight host check`: each point of the contract with the host, checked live, as a checklist with the fix for each failure. */

export interface CheckItem {
  ok: boolean;
  what: string;
  /** ok: a detail; FAIL: the fix. */
  note: string;
}

const INSTALL = (root: string) => `run: preflight host install --factory-root ${root}`;
/** The host's own steps, in its order (its formula's schema). */
const HOST_STEPS = ['preflight', 'health-assessment', 'decide-actions', 'report', 'incidents', 'journal'];
const MIN_NODE = [18, 19] as const;
const LIVE_TIMEOUT_MS = 120_000;
const LIVE_WHAT = 'our recipes on a live report agree with `preflight --format fired`';

const item = (ok: boolean, what: string, note = ''): CheckItem => ({ ok, what, note });

/** Pure: our recipes in the host's one list, and the host's own still beside them. */
export function checkRecipes(host: HostTree, kit: OurKit): CheckItem[] {
  let list: unknown[];
  try {
    list = recipesIn(host.recipes);
  } catch (err) {
    return [item(false, `${HOST_FILES.recipes} has one recipes: list`, errorMessage(err))];
  }
  const named = (name: string) => list.find((r) => (r as { name?: unknown })?.name === name);
  const ours = new Set(kit.recipes.map((r) => r.name));
  const hostOwn = list.filter((r) => !ours.has(String((r as { name?: unknown })?.name)));
  const stale = kit.recipes.filter((r) => JSON.stringify(named(r.name)) !== JSON.stringify(r)).map((r) => r.name);
  return [
    item(true, `${HOST_FILES.recipes} has one recipes: list`),
    item(
      stale.length === 0,
      `our ${kit.recipes.length} recipes are in it, current`,
      stale.length ? `missing or outdated: ${stale.join(', ')}; ${INSTALL(host.root)}` : '',
    ),
    item(
      hostOwn.length > 0,
      "the host's own recipes are still in it",
      hostOwn.length
        ? `${hostOwn.length} of the host's`
        : `restore supervisor/recipes.yaml from the host's git (git -C ${host.root} checkout -- ${HOST_FILES.recipes}), then install again`,
    ),
  ];
}

/** Pure: our block inside preflight.sh (installing again would change nothing), and the formula extended with the host's steps intact. */
export function checkScriptAndFormula(host: HostTree, kit: OurKit): CheckItem[] {
  const attempt = (f: () => string) => {
    try {
      return f();
    } catch (err) {
      return err as Error;
    }
  };
  const placed = attempt(() => placeBlock(host.preflight, kit.block));
  const hasBlock = blockIn(host.preflight) !== null;
  const inside = blockInsideFinalIf(host.preflight);
  const blockOk = placed === host.preflight && inside;
  const blockFix =
    placed instanceof Error
      ? placed.message
      : !hasBlock
        ? `our block is missing; ${INSTALL(host.root)}`
        : !inside
          ? `our block is not inside the script's final if … fi (sourcing the script would run it): move it just above that fi, or remove it and ${INSTALL(host.root).replace('run: ', 'run ')}`
          : `our block is outdated; ${INSTALL(host.root)}`;
  const extended = attempt(() => extendFormula(host.formula, kit.steps));
  const ids = attempt(() => stepIds(host.formula).join(','));
  const hostSteps = typeof ids === 'string' && HOST_STEPS.every((id) => ids.split(',').includes(id));
  return [
    item(blockOk, `${HOST_FILES.preflight} holds our block inside its final if … fi`, blockOk ? '' : blockFix),
    item(
      extended === host.formula,
      `${HOST_FILES.formula} holds our storage steps`,
      extended === host.formula ? '' : extended instanceof Error ? extended.message : INSTALL(host.root),
    ),
    item(
      hostSteps,
      `${HOST_FILES.formula} keeps the host's steps (${HOST_STEPS.join(' → ')})`,
      hostSteps
        ? ''
        : `restore it from the host's git (git -C ${host.root} checkout -- ${HOST_FILES.formula}), then install again`,
    ),
    item(
      host.remediation === kit.remediation,
      `${REMEDIATION_FORMULA} is ours (an approved vault action's formula must be a file there)`,
      host.remediation === kit.remediation
        ? ''
        : `${host.remediation === null ? 'missing' : 'outdated'}; ${INSTALL(host.root)}`,
    ),
    // Installed as a package, outside the checkout: the recipes name a script there that runs ours.
    ...(kit.wrapper === null
      ? []
      : [
          item(
            host.wrapper === kit.wrapper,
            `${WRAPPER_SCRIPT} runs this installation's clean-up action`,
            host.wrapper === kit.wrapper
              ? ''
              : `${host.wrapper === null ? 'missing' : 'outdated'}; ${INSTALL(host.root)}`,
          ),
        ]),
  ];
}

/** Pure: the recipe's action_script, from either FACTORY_ROOT, names our script at the same place below it. */
export function checkActionScript(host: HostTree, kit: OurKit): CheckItem[] {
  let script: unknown;
  try {
    script = (
      recipesIn(host.recipes).find(
        (r) =>
          (r as { action?: unknown })?.action === 'direct' &&
          String((r as { name?: unknown }).name).startsWith('storage-'),
      ) as { action_script?: unknown } | undefined
    )?.action_script;
  } catch {
    script = undefined;
  }
  return FACTORY_ROOTS.map((root) => {
    const resolved = typeof script === 'string' ? path.posix.join(root, script) : '';
    const expected = path.posix.join(root, kit.actionScript);
    const ok = typeof script === 'string' && !path.posix.isAbsolute(script) && resolved === expected;
    return item(
      ok,
      `action_script resolves from FACTORY_ROOT=${root}`,
      ok ? resolved : `it reads ${JSON.stringify(script ?? null)}, not ${kit.actionScript}; ${INSTALL(host.root)}`,
    );
  });
}

/** Pure: journal and vault as the host resolves them (its entrypoint sets only OPS_REPO_ROOT). */
export function checkRoots(env: NodeJS.ProcessEnv): CheckItem[] {
  const set = (name: string) => env[name] || undefined;
  const repo = set('OPS_REPO_ROOT');
  const journal = set('OPS_JOURNAL_ROOT') ?? (repo ? path.join(repo, 'journal', 'supervisor') : undefined);
  const vault = set('OPS_VAULT_ROOT') ?? (repo ? path.join(repo, 'vault', 'pending') : undefined);
  const fix =
    "set OPS_REPO_ROOT where the supervisor's environment is set (the host's entrypoint does), then run this check in that environment";
  return [
    item(
      journal !== undefined,
      'journal root (OPS_JOURNAL_ROOT, else $OPS_REPO_ROOT/journal/supervisor)',
      journal ?? `unset: the history goes to this checkout's ./journal; ${fix}`,
    ),
    item(
      vault !== undefined,
      'vault pending folder (OPS_VAULT_ROOT, else $OPS_REPO_ROOT/vault/pending)',
      vault ?? `unset: --escalate files nothing; ${fix}`,
    ),
  ];
}

/** Pure: this Node is one the tool supports. */
export function checkNode(version: string): CheckItem {
  const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number);
  const ok = major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1]);
  return item(
    ok,
    `Node ${version} (at least ${MIN_NODE.join('.')})`,
    ok ? '' : 'install Node 18.19 or newer (Debian 12 ships 18.19)',
  );
}

/** The Docker socket answers this account, or how to mount it. */
async function checkSocket(env: NodeJS.ProcessEnv): Promise<CheckItem> {
  const endpoint = parseDockerHost(env.DOCKER_HOST || undefined);
  const where = endpoint.label;
  try {
    await dockerGet(endpoint, '/version', 5_000);
    return item(true, `Docker answers on ${where}`);
  } catch (err) {
    if (endpoint.kind !== 'unix') return item(false, `Docker answers on ${where}`, errorMessage(err));
    const { gid, usable } = await socketAccess(endpoint.socketPath);
    const fix =
      gid === null
        ? `no socket here: mount it into the supervisor's container, e.g. under the compose \`agents\` service: \`volumes: ["/var/run/docker.sock:/var/run/docker.sock"]\` and \`group_add: ["<gid of /var/run/docker.sock on the host>"]\``
        : usable
          ? errorMessage(err)
          : `the socket's group is ${gid}: add it to this account (compose: \`group_add: ["${gid}"]\` on the \`agents\` service)`;
    return item(false, `Docker answers on ${where}`, fix);
  }
}

/** Our recipes, applied with the host evaluator's semantics to a live report, wake the LLM exactly when our gate says. */
async function checkLiveGate(run: Runner, host: HostTree, kit: OurKit, ourRoot: string): Promise<CheckItem> {
  const what = LIVE_WHAT;
  const preflight = path.join(ourRoot, 'preflight');
  const report = await run(preflight, ['--no-journal'], LIVE_TIMEOUT_MS);
  const gate = await run(
    preflight,
    ['--no-journal', '--format', 'fired', '--action-script', kit.actionScript],
    LIVE_TIMEOUT_MS,
  );
  if (report.exitCode !== 0 || gate.exitCode !== 0)
    return item(false, what, `./preflight failed: ${(report.stderr || gate.stderr).trim().split('\n')[0]}`);
  let ours: HostRecipe[];
  try {
    const names = new Set(kit.recipes.map((r) => r.name));
    ours = (recipesIn(host.recipes) as HostRecipe[]).filter((r) => names.has(r?.name));
  } catch (err) {
    return item(false, what, errorMessage(err));
  }
  return gateAgreement(ours, report.stdout, (JSON.parse(gate.stdout) as { fired: FiredEntry[] }).fired, host.root);
}

/**
 * Pure: our recipes, evaluated as the host does on a report, against the
 * gate's `fired` of the same state: the LLM wakes in both or in neither, and
 * a `direct` clean-up runs the same script.
 */
export function gateAgreement(
  ours: readonly HostRecipe[],
  report: string,
  fired: readonly FiredEntry[],
  root: string,
): CheckItem {
  const what = LIVE_WHAT;
  const byRecipes = evaluate(ours, report);
  // Findings without a recipe (an unreachable daemon, inodes, a stuck mount) reach the LLM only with the rest of the report.
  const byGate = fired.filter((f) => /^(disk-|btrfs-metadata|preflight-incomplete)/.test(f.name));
  const scripts = (list: readonly { action: string; action_script: string }[]) =>
    [...new Set(list.filter((f) => f.action === 'direct').map((f) => f.action_script))].sort().join();
  const agree =
    wakesLlm(byRecipes) === wakesLlm(byGate) &&
    byRecipes.length > 0 === byGate.length > 0 &&
    scripts(byRecipes) === scripts(byGate);
  const names = (list: readonly { name: string; action: string }[]) =>
    list.map((f) => `${f.name} (${f.action})`).join(', ') || 'nothing';
  return item(
    agree,
    what,
    agree
      ? `recipes fire ${names(byRecipes)}; the gate ${names(byGate)}`
      : `recipes fire ${names(byRecipes)} but the gate ${names(byGate)}: the recipes in ${HOST_FILES.recipes} are not ours as installed; ${INSTALL(root)}`,
  );
}

/** The checklist, one line per point (and its fix), non-zero when any failed. */
export async function hostCheck(factoryRoot: string, ourRoot: string, run: Runner, io: Io): Promise<number> {
  const root = path.resolve(factoryRoot);
  const host = await readHostTree(run, root);
  const kit = await ourKit(run, root, ourRoot);
  const syntax = await bashSyntax(run, host.preflight);
  const items = [
    ...checkRecipes(host, kit),
    ...checkScriptAndFormula(host, kit),
    item(syntax === null, `${HOST_FILES.preflight} passes bash -n`, syntax ?? ''),
    ...checkActionScript(host, kit),
    ...checkRoots(io.env),
    checkNode(process.version),
    await checkSocket(io.env),
    await checkLiveGate(run, host, kit, ourRoot),
  ];
  io.stdout(renderChecklist(items));
  return items.every((i) => i.ok) ? EXIT.ok : EXIT.hostBroken;
}

export function renderChecklist(items: readonly CheckItem[]): string {
  return items
    .map((i) => `${i.ok ? 'ok  ' : 'FAIL'} ${i.what}${i.note ? `\n     ${i.ok ? '' : 'fix: '}${i.note}` : ''}\n`)
    .join('');
}
