import path from 'node:path';
import type { Runner } from '../../host/exec.js';
import { CLEANUP_SCRIPT } from '../../model/gate.js';
import { UsageError } from '../../model/errors.js';
import { FileProblem, readSmallFile } from '../../probes/files.js';
import { recipes, type Recipe } from '../../sections/recipes.js';
import { snippetFor } from '../../render/host-kit/block-place.js';

/* What `host install` puts into the host's checkout and `host check` expects there: read, never written, here. */

export const HOST_FILES = {
  recipes: 'supervisor/recipes.yaml',
  preflight: 'supervisor/preflight.sh',
  formula: 'formulas/run-supervisor.toml',
} as const;
export const REMEDIATION_FORMULA = 'formulas/storage-remediation.toml';
/** The two places the host's FACTORY_ROOT can be: the live checkout, or the fallback when it is missing. */
export const FACTORY_ROOTS = ['/home/agent/repos/_factory', '/home/agent/disinto'] as const;

const MAX_BYTES = 1024 * 1024;
const READ_TIMEOUT_MS = 10_000;

export interface HostTree {
  root: string;
  recipes: string;
  preflight: string;
  formula: string;
  /** Our remediation formula's copy in the host's formulas/, or null when absent. */
  remediation: string | null;
}

export interface OurKit {
  /** Our checkout's path from the host's root (POSIX, relative). */
  fromRoot: string;
  actionScript: string;
  recipes: Recipe[];
  block: string;
  steps: string;
  remediation: string;
}

async function readOptional(run: Runner, file: string): Promise<string | null> {
  try {
    return await readSmallFile(run, file, MAX_BYTES, READ_TIMEOUT_MS);
  } catch (err) {
    if (err instanceof FileProblem && err.code === 'ENOENT') return null;
    throw cannot('read', err);
  }
}

/** A file this user cannot read or write (permissions, a symlink, a hung mount) is the operator's to fix: exit 2, not a bug. */
export function cannot(verb: 'read' | 'write', err: unknown): unknown {
  return err instanceof FileProblem ? new UsageError(`cannot ${verb} ${err.file}: ${err.message}`) : err;
}

/** The host's three files, or a refusal naming the first that is missing (then the tree is not the host's). */
export async function readHostTree(run: Runner, root: string): Promise<HostTree> {
  const read = async (rel: string) => {
    const text = await readOptional(run, path.join(root, rel));
    if (text === null)
      throw new UsageError(
        `${root} is not the host's checkout (no ${rel}): --factory-root names the folder holding supervisor/ and formulas/`,
      );
    return text;
  };
  return {
    root,
    recipes: await read(HOST_FILES.recipes),
    preflight: await read(HOST_FILES.preflight),
    formula: await read(HOST_FILES.formula),
    remediation: await readOptional(run, path.join(root, REMEDIATION_FORMULA)),
  };
}

/** Our checkout's path from the host's root; refused when it is not below it (the host resolves action_script from there). */
export function pathFromRoot(factoryRoot: string, ourRoot: string): string {
  const rel = path.relative(path.resolve(factoryRoot), path.resolve(ourRoot));
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel))
    throw new UsageError(
      `this checkout (${path.resolve(ourRoot)}) is not inside the factory root (${path.resolve(factoryRoot)}): the host runs action_script as "$FACTORY_ROOT/<path>" with FACTORY_ROOT ${FACTORY_ROOTS.join(' or ')}, so clone storage-preflight inside the factory root and run the install from there`,
    );
  return rel.split(path.sep).join('/');
}

/** Everything of ours the install places, with the paths worked out for this host. */
export async function ourKit(run: Runner, factoryRoot: string, ourRoot: string): Promise<OurKit> {
  const fromRoot = pathFromRoot(factoryRoot, ourRoot);
  const actionScript = path.posix.join(fromRoot, CLEANUP_SCRIPT);
  const own = (rel: string) =>
    readSmallFile(run, path.join(ourRoot, rel), MAX_BYTES, READ_TIMEOUT_MS).catch((err: unknown) => {
      throw cannot('read', err);
    });
  return {
    fromRoot,
    actionScript,
    recipes: recipes(actionScript),
    block: snippetFor(await own('integrations/preflight-snippet.sh'), fromRoot),
    // From the first table on: the file's own header comment would only cost prompt tokens.
    steps: fromFirstStep(await own('integrations/run-supervisor-storage.toml')),
    remediation: await own(REMEDIATION_FORMULA),
  };
}

function fromFirstStep(toml: string): string {
  const at = toml.search(/^\[\[steps\]\]/m);
  return at < 0 ? toml : toml.slice(at);
}

/** `bash -n` on a script's text: null when clean, else what bash said. */
export async function bashSyntax(run: Runner, script: string): Promise<string | null> {
  const res = await run('bash', ['-n'], READ_TIMEOUT_MS, script);
  return res.exitCode === 0 ? null : res.stderr.trim() || `bash -n exited ${res.exitCode}`;
}
