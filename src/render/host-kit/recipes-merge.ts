import { createRequire } from 'node:module';
import { isDeepStrictEqual } from 'node:util';
import type * as Yaml from 'yaml';
import type { Pair, YAMLMap, YAMLSeq } from 'yaml';
import { UsageError } from '../../model/errors.js';

/** Required on first use: only `host` commands read YAML, and loading the parser at start cost every report ~50 ms. */
function yaml(): typeof Yaml {
  return createRequire(import.meta.url)('yaml') as typeof Yaml;
}

type YamlDocument = ReturnType<typeof Yaml.parseDocument>;

/*
 * The host reads supervisor/recipes.yaml with mikefarah yq, which keeps the
 * last of two equal keys: a second `recipes:` would silently drop every
 * recipe of the host's. So ours go into its one list, edited through the
 * document (comments, order and quoting kept), found again by name.
 */

const FILE = 'supervisor/recipes.yaml';

export interface NamedRecipe {
  name: string;
}

/** The one `recipes:` list, or a refusal saying why there is not exactly one. */
function recipesPair(doc: YamlDocument): Pair {
  const { isMap, isScalar, isSeq } = yaml();
  if (doc.errors.length > 0)
    throw new UsageError(`${FILE} does not parse as YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
  if (!isMap(doc.contents)) throw new UsageError(`${FILE} is not a mapping with a \`recipes:\` list`);
  const pairs = (doc.contents as YAMLMap).items.filter((p) => isScalar(p.key) && p.key.value === 'recipes');
  if (pairs.length === 0) throw new UsageError(`${FILE} has no \`recipes:\` key: not the host's recipe file`);
  if (pairs.length > 1)
    throw new UsageError(
      `${FILE} has ${pairs.length} \`recipes:\` keys, and yq reads only the last: merge them into one list by hand first`,
    );
  if (!isSeq(pairs[0]!.value)) throw new UsageError(`${FILE}: \`recipes:\` is not a list`);
  return pairs[0]!;
}

/** The recipes of the one list, as plain data (for checks). */
export function recipesIn(text: string): unknown[] {
  const doc = yaml().parseDocument(text, { uniqueKeys: false });
  const pair = recipesPair(doc);
  return (pair.value as { toJSON(): unknown[] }).toJSON();
}

/**
 * Pure: the host's recipes.yaml → the same with each of `ours` in its one
 * list: replaced in place where its name is there and it changed, appended
 * where it is not. Only our entries' lines change (spliced into the text
 * where the document puts them); a list the splice cannot handle (a flow
 * list, an empty one) is written back through the document instead.
 * Unchanged input comes back byte for byte.
 */
export function mergeRecipes(text: string, ours: readonly NamedRecipe[]): string {
  const doc = yaml().parseDocument(text, { uniqueKeys: false });
  const list = recipesPair(doc).value as YAMLSeq;
  const plain = (r: NamedRecipe) => JSON.parse(JSON.stringify(r)) as unknown;
  const expected = list.toJSON() as unknown[];
  for (const recipe of ours) {
    const at = expected.findIndex((item) => (item as NamedRecipe | null)?.name === recipe.name);
    if (at < 0) expected.push(plain(recipe));
    else expected[at] = plain(recipe);
  }
  if (isDeepStrictEqual(list.toJSON(), expected)) return text;
  const spliced = splice(text, list, ours);
  if (spliced !== null && isDeepStrictEqual(recipesIn(spliced), expected)) return spliced;
  return rewritten(doc, list, ours, text);
}

/** One recipe as block YAML whose lines after the first are indented to `column`. */
function render(recipe: NamedRecipe, column: number): string {
  const lines = new (yaml().Document)(recipe).toString({ lineWidth: 0 }).replace(/\n$/, '').split('\n');
  return lines.map((l, i) => (i === 0 || l === '' ? l : ' '.repeat(column) + l)).join('\n');
}

/** Our entries spliced into the text: the host's lines stay byte for byte. Null when the list is not a block list of maps. */
function splice(text: string, list: YAMLSeq, ours: readonly NamedRecipe[]): string | null {
  const { isMap } = yaml();
  const items = list.items as unknown[];
  if (list.flow || items.length === 0 || !items.every((i) => isMap(i) && !i.flow && i.range)) return null;
  const maps = items as YAMLMap[];
  const lineStart = (pos: number) => text.lastIndexOf('\n', pos - 1) + 1;
  const edits: { from: number; to: number; text: string }[] = [];
  const appended: string[] = [];
  // Sample: `  - name: memory-low`: the dash's indent, and the column the map's keys start at.
  const first = maps[0]!.range![0];
  const lead = /^([ \t]*)- +$/.exec(text.slice(lineStart(first), first));
  if (!lead) return null;
  for (const recipe of ours) {
    const old = maps.find((m) => m.get('name') === recipe.name);
    if (!old) {
      appended.push(`${lead[1]}- ${render(recipe, lead[1]!.length + 2)}\n`);
      continue;
    }
    if (isDeepStrictEqual(old.toJSON(), JSON.parse(JSON.stringify(recipe)))) continue;
    const [from, to] = old.range!;
    edits.push({ from, to, text: `${render(recipe, from - lineStart(from))}\n` });
  }
  const end = maps.at(-1)!.range![1];
  if (appended.length > 0)
    edits.push({ from: end, to: end, text: (text[end - 1] === '\n' ? '' : '\n') + appended.join('') });
  return edits
    .sort((x, y) => y.from - x.from)
    .reduce((out, e) => out.slice(0, e.from) + e.text + out.slice(e.to), text);
}

/** The fallback: the list edited through the document, written back in the file's own dash style. */
function rewritten(doc: YamlDocument, list: YAMLSeq, ours: readonly NamedRecipe[], text: string): string {
  const { isMap } = yaml();
  const items = list.items as unknown[];
  for (const recipe of ours) {
    const at = items.findIndex((item) => isMap(item) && item.get('name') === recipe.name);
    const node = doc.createNode(recipe);
    if (at < 0) {
      items.push(node);
      continue;
    }
    const old = items[at] as YAMLMap;
    node.commentBefore = old.commentBefore;
    node.comment = old.comment;
    items[at] = node;
  }
  return doc.toString({ lineWidth: 0, indentSeq: seqIndented(text) });
}

/**
 * Whether the list's dashes sit below `recipes:` or indented under it: the
 * file is written back in its own style, so the host's lines stay as they were.
 */
function seqIndented(text: string): boolean {
  // Sample: `recipes:` then `- name: memory-low` (not indented) or `  - name: memory-low`.
  const first = /^recipes:[ \t]*(?:#.*)?\n(?:[ \t]*(?:#.*)?\n)*([ \t]*)-/m.exec(text);
  return first ? first[1] !== '' : true;
}
