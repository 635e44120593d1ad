import { isDeepStrictEqual } from 'node:util';
import { isMap, isScalar, isSeq, parseDocument, type Pair, type YAMLMap } from 'yaml';
import { UsageError } from '../../model/errors.js';

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
function recipesPair(doc: ReturnType<typeof parseDocument>): Pair {
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
  const doc = parseDocument(text, { uniqueKeys: false });
  const pair = recipesPair(doc);
  return (pair.value as { toJSON(): unknown[] }).toJSON();
}

/**
 * Pure: the host's recipes.yaml → the same with each of `ours` in its one
 * list: replaced in place where its name is there and it changed, appended
 * where it is not. Unchanged input comes back byte for byte.
 */
export function mergeRecipes(text: string, ours: readonly NamedRecipe[]): string {
  const doc = parseDocument(text, { uniqueKeys: false });
  const list = recipesPair(doc).value as ReturnType<typeof doc.createNode> & { items: unknown[] };
  let changed = false;
  for (const recipe of ours) {
    const at = list.items.findIndex((item) => isMap(item) && item.get('name') === recipe.name);
    const node = doc.createNode(recipe);
    if (at < 0) {
      list.items.push(node);
      changed = true;
      continue;
    }
    const old = list.items[at] as YAMLMap;
    if (isDeepStrictEqual(old.toJSON(), JSON.parse(JSON.stringify(recipe)))) continue;
    node.commentBefore = old.commentBefore;
    node.comment = old.comment;
    list.items[at] = node;
    changed = true;
  }
  return changed ? doc.toString({ lineWidth: 0, indentSeq: seqIndented(text) }) : text;
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
