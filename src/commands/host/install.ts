import path from 'node:path';
import type { Runner } from '../../host/exec.js';
import { UsageError } from '../../model/errors.js';
import { placeBlock } from '../../render/host-kit/block-place.js';
import { extendFormula } from '../../render/host-kit/formula-extend.js';
import { mergeRecipes } from '../../render/host-kit/recipes-merge.js';
import { replaceHostFile } from '../../sinks/host-files.js';
import { EXIT, type Io } from '../io.js';
import { bashSyntax, cannot, HOST_FILES, ourKit, readHostTree, REMEDIATION_FORMULA, WRAPPER_SCRIPT } from './kit.js';

interface Change {
  /** Relative to the host's root. */
  file: string;
  before: string | null;
  after: string;
}

const WRITE_TIMEOUT_MS = 10_000;

/** `preflight host install`: compute every edit first (any refusal writes nothing), then diff or write them. */
export async function hostInstall(
  factoryRoot: string,
  ourRoot: string,
  dryRun: boolean,
  run: Runner,
  io: Io,
): Promise<number> {
  const root = path.resolve(factoryRoot);
  const host = await readHostTree(run, root);
  const kit = await ourKit(run, root, ourRoot);
  const preflight = placeBlock(host.preflight, kit.block);
  const syntax = await bashSyntax(run, preflight);
  if (syntax) throw new UsageError(`${HOST_FILES.preflight} with our block fails bash -n (${syntax}); nothing written`);
  const changes: Change[] = [
    { file: HOST_FILES.recipes, before: host.recipes, after: mergeRecipes(host.recipes, kit.recipes) },
    { file: HOST_FILES.preflight, before: host.preflight, after: preflight },
    { file: HOST_FILES.formula, before: host.formula, after: extendFormula(host.formula, kit.steps) },
    { file: REMEDIATION_FORMULA, before: host.remediation, after: kit.remediation },
    ...(kit.wrapper === null ? [] : [{ file: WRAPPER_SCRIPT, before: host.wrapper, after: kit.wrapper }]),
  ];
  for (const c of changes) {
    if (c.before === c.after) {
      io.stdout(`unchanged ${c.file}\n`);
      continue;
    }
    if (dryRun) {
      io.stdout(await unifiedDiff(run, c));
      continue;
    }
    await replaceHostFile(run, path.join(root, c.file), c.after, WRITE_TIMEOUT_MS).catch((err: unknown) => {
      // What was written before stays written: each file is whole, and installing again finishes the rest.
      throw cannot('write', err);
    });
    io.stdout(`${c.before === null ? 'created' : 'updated'} ${c.file}\n`);
  }
  io.stdout(
    dryRun
      ? 'dry run: nothing written\n'
      : `action_script: ${kit.actionScript} (from $FACTORY_ROOT); check with: preflight host check --factory-root ${root}\n`,
  );
  return EXIT.ok;
}

/** diff -u of one change; the old text goes through a process substitution, the new on stdin: nothing touches the disk. */
async function unifiedDiff(run: Runner, c: Change): Promise<string> {
  const script = 'diff -u --label "a/$1" --label "b/$1" <(printf %s "$2") -';
  const res = await run('bash', ['-c', script, 'diff', c.file, c.before ?? ''], WRITE_TIMEOUT_MS, c.after);
  if (res.exitCode > 1) throw new Error(`diff failed for ${c.file}: ${res.stderr.trim()}`);
  return res.stdout;
}
