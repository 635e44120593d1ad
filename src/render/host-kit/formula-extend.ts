import { createRequire } from 'node:module';
import type * as Toml from 'smol-toml';
import { UsageError } from '../../model/errors.js';

/*
 * The host's supervisor formula keeps every line of its own (its CI checks,
 * incident writer, escalation protocol, knowledge files): our storage steps
 * go in as extra `[[steps]]` tables between marker comments, before the
 * host's decide-actions step (so the model reads them before deciding), or
 * at the end when it has none.
 */

const FILE = 'formulas/run-supervisor.toml';
export const FORMULA_BEGIN =
  '# >>> storage-preflight steps: placed by `preflight host install`, which replaces them >>>';
export const FORMULA_END = '# <<< storage-preflight steps <<<';
const BEFORE_STEP = 'decide-actions';

/** Required on first use: only `host` commands read TOML, and a report need not load the parser. */
function parseToml(toml: string): Record<string, unknown> {
  return (createRequire(import.meta.url)('smol-toml') as typeof Toml).parse(toml);
}

/** The step ids of a formula, in order, or a refusal when it is not one. */
export function stepIds(toml: string, file = FILE): string[] {
  let data: Record<string, unknown>;
  try {
    data = parseToml(toml);
  } catch (err) {
    throw new UsageError(`${file} does not parse as TOML: ${(err as Error).message.split('\n')[0]}`);
  }
  const steps = data.steps;
  if (!Array.isArray(steps) || steps.some((s) => typeof (s as { id?: unknown }).id !== 'string'))
    throw new UsageError(`${file} has no \`[[steps]]\` with ids: not a formula`);
  return steps.map((s) => (s as { id: string }).id);
}

/** Line index of the `[[steps]]` header of step `id`, if any. */
function headerOf(lines: readonly string[], id: string): number {
  // Sample: `[[steps]]`, then a few lines down `id    = "decide-actions"`.
  const header = /^\s*\[\[\s*steps\s*\]\]\s*(#.*)?$/;
  const idLine = /^\s*id\s*=\s*"([^"]*)"/;
  for (let i = 0; i < lines.length; i += 1) {
    if (!header.test(lines[i]!)) continue;
    const next = lines.slice(i + 1).findIndex((l) => header.test(l) || idLine.test(l));
    const m = next < 0 ? null : idLine.exec(lines[i + 1 + next]!);
    if (m?.[1] === id) return i;
  }
  return -1;
}

/** Pure: the host's formula → the same with `steps` (our `[[steps]]` tables) as a marked block; host lines unchanged. */
export function extendFormula(toml: string, steps: string): string {
  const hostIds = stepIds(toml);
  const ours = stepIds(steps, 'our storage steps');
  const lines = toml.split('\n');
  const block = [FORMULA_BEGIN, ...steps.replace(/\n+$/, '').split('\n'), FORMULA_END];
  const begin = lines.indexOf(FORMULA_BEGIN);
  let out: string[];
  if (begin >= 0) {
    const end = lines.indexOf(FORMULA_END, begin);
    if (end < 0) throw new UsageError(`${FILE} has our begin marker but no end marker: remove the half block by hand`);
    out = [...lines.slice(0, begin), ...block, ...lines.slice(end + 1)];
  } else {
    const clash = ours.find((id) => hostIds.includes(id));
    if (clash) throw new UsageError(`${FILE} already has a step \`${clash}\` of its own: ours would shadow it`);
    const at = headerOf(lines, BEFORE_STEP);
    out =
      at < 0
        ? [...lines.slice(0, lines.length - (lines.at(-1) === '' ? 1 : 0)), '', ...block, '']
        : [...lines.slice(0, at), ...block, '', ...lines.slice(at)];
  }
  const text = out.join('\n');
  const after = stepIds(text).filter((id) => !ours.includes(id));
  if (after.join() !== hostIds.filter((id) => !ours.includes(id)).join())
    throw new Error(`extending ${FILE} would change the host's steps (${after.join(', ')})`);
  return text;
}

/** The host's lines: the formula without our block. */
export function withoutBlock(toml: string): string {
  const lines = toml.split('\n');
  const begin = lines.indexOf(FORMULA_BEGIN);
  const end = lines.indexOf(FORMULA_END, begin);
  if (begin < 0 || end < 0) return toml;
  // The blank line placed after the block goes with it.
  const tail = lines[end + 1] === '' ? end + 2 : end + 1;
  return [...lines.slice(0, begin), ...lines.slice(tail)].join('\n');
}
