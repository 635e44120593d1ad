/*
 * The recipes that plug our sections into the host's recipe gate, as data:
 * `npm run recipes` writes integrations/recipes.yaml from them (a test keeps
 * the two equal). `npx tsx integrations/recipes.ts --action-script PATH`
 * prints them with the clean-up script named from $FACTORY_ROOT instead.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Document } from 'yaml';
import { recipes } from '../src/sections/recipes.js';

export { recipes, type Recipe } from '../src/sections/recipes.js';

const HEADER = [
  ' storage-preflight recipes for supervisor/recipes.yaml: `preflight host install` merges them into its',
  " one `recipes:` list. Never append this file there: yq keeps the last `recipes:` key, dropping the host's.",
  ' Generated from src/sections/recipes.ts by `npm run recipes`; edit that file, not this one.',
];
const RELATIVE = [
  " action_script is relative to this checkout: prefix it with the checkout's path from $FACTORY_ROOT",
  ' (or print them so: npx tsx integrations/recipes.ts --action-script <path from $FACTORY_ROOT>).',
];

export function recipesYaml(actionScript?: string): string {
  const doc = new Document({ recipes: recipes(actionScript) });
  doc.commentBefore = [...HEADER, ...(actionScript ? [] : RELATIVE)].join('\n');
  return doc.toString({ lineWidth: 0 });
}

export const RECIPES_FILE = fileURLToPath(new URL('recipes.yaml', import.meta.url));

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const at = process.argv.indexOf('--action-script');
  const script = at > 0 ? process.argv[at + 1] : undefined;
  if (at > 0 && !script) {
    process.stderr.write('usage: npx tsx integrations/recipes.ts [--action-script PATH]\n');
    process.exit(2);
  }
  if (script) process.stdout.write(recipesYaml(script));
  else writeFileSync(RECIPES_FILE, recipesYaml());
}
