import path from 'node:path';
import { shellQuote } from '../../text/escape.js';
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
  /** The script that runs our installed one (a package installed outside the checkout), or null when absent. */
  wrapper: string | null;
}

export interface OurKit {
  /** Our checkout's path from the host's root (POSIX, relative); null when we are installed outside it (a package). */
  fromRoot: string | null;
  actionScript: string;
  /** Installed outside the host's checkout: the script placed in it that runs ours, at actionScript. */
  wrapper: string | null;
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
    wrapper: await readOptional(run, path.join(root, WRAPPER_SCRIPT)),
  };
}

/** Our checkout's path from the host's root, or null when it is not below it (an installed package). */
export function pathFromRoot(factoryRoot: string, ourRoot: string): string | null {
  const rel = path.relative(path.resolve(factoryRoot), path.resolve(ourRoot));
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return null;
  return rel.split(path.sep).join('/');
}

/**
 * Installed outside the host's checkout (`npm install -g`), the host cannot
 * reach our action script by a path from $FACTORY_ROOT: this script, placed
 * in its checkout, runs ours by its absolute path.
 */
export const WRAPPER_SCRIPT = 'supervisor/storage-preflight-cleanup.sh';

export function wrapperFor(ourRoot: string): string {
  const target = path.join(path.resolve(ourRoot), CLEANUP_SCRIPT);
  return [
    '#!/usr/bin/env bash',
    '# Written by `preflight host install`: storage-preflight is installed outside this checkout,',
    '# so the storage recipes name this script, which runs the installed one.',
    `exec bash ${shellQuote(target)} "$@"`,
    '',
  ].join('\n');
}

/** Everything of ours the install places, with the paths worked out for this host. */
export async function ourKit(run: Runner, factoryRoot: string, ourRoot: string): Promise<OurKit> {
  const fromRoot = pathFromRoot(factoryRoot, ourRoot);
  const actionScript = fromRoot === null ? WRAPPER_SCRIPT : path.posix.join(fromRoot, CLEANUP_SCRIPT);
  const own = (rel: string) =>
    readSmallFile(run, path.join(ourRoot, rel), MAX_BYTES, READ_TIMEOUT_MS).catch((err: unknown) => {
      throw cannot('read', err);
    });
  return {
    fromRoot,
    actionScript,
    wrapper: fromRoot === null ? wrapperFor(ourRoot) : null,
    recipes: recipes(actionScript),
    block: snippetFor(
      await own('integrations/preflight-snippet.sh'),
      fromRoot === null ? { absolute: path.resolve(ourRoot) } : { fromRoot },
    ),
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
