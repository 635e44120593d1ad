import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { recipes } from '../../src/sections/recipes.js';
import {
  BLOCK_BEGIN,
  BLOCK_END,
  blockIn,
  blockInsideFinalIf,
  placeBlock,
  snippetFor,
} from '../../src/render/host-kit/block-place.js';
import { extendFormula, withoutBlock } from '../../src/render/host-kit/formula-extend.js';
import { mergeRecipes } from '../../src/render/host-kit/recipes-merge.js';
import { HOST_FORMULA, HOST_PREFLIGHT_SH, HOST_RECIPES_YAML } from '../helpers/host-tree.js';
import { REPO } from '../helpers/preflight.js';
import { pathFromRoot, wrapperFor } from '../../src/commands/host/kit.js';

const ours = recipes('storage-preflight/integrations/actions/storage-cleanup.sh');
const names = (text: string) => (parseYaml(text) as { recipes: { name: string }[] }).recipes.map((r) => r.name);
const STEPS = readFileSync(path.join(REPO, 'integrations/run-supervisor-storage.toml'), 'utf8');

describe('mergeRecipes', () => {
  it("adds ours to the host's one list, keeps its recipes and comments, and a second merge changes nothing", () => {
    const once = mergeRecipes(HOST_RECIPES_YAML, ours);
    const hostNames = names(HOST_RECIPES_YAML);
    expect(names(once)).toEqual([...hostNames, ...ours.map((r) => r.name)]);
    expect(once.match(/^recipes:/gm)).toHaveLength(1);
    for (const comment of HOST_RECIPES_YAML.split('\n').filter((l) => l.trim().startsWith('#')))
      expect(once).toContain(comment);
    expect(mergeRecipes(once, ours)).toBe(once);
  });

  it('replaces a changed entry of ours in place, by name', () => {
    const once = mergeRecipes(HOST_RECIPES_YAML, ours);
    const moved = recipes('elsewhere/integrations/actions/storage-cleanup.sh');
    const twice = mergeRecipes(once, moved);
    expect(names(twice)).toEqual(names(once));
    expect(twice).toContain('action_script: elsewhere/integrations/actions/storage-cleanup.sh');
    expect(twice).not.toContain('storage-preflight/integrations');
  });

  it("keeps the host's lines byte for byte, odd spacing and flow maps included", () => {
    const odd =
      'recipes:\n- name: a   # trailing\n  detect: {source: preflight, section: "Docker"}\n  action: llm  # why\n\n# later\nother: 1\n';
    const merged = mergeRecipes(odd, ours);
    expect(merged.startsWith(odd.slice(0, odd.indexOf('\n# later')))).toBe(true);
    expect(merged.endsWith('\n# later\nother: 1\n')).toBe(true);
    expect(names(merged)).toEqual(['a', ...ours.map((r) => r.name)]);
    expect(mergeRecipes(merged, ours)).toBe(merged);
  });

  it('writes an empty or flow list back through the document', () => {
    expect(names(mergeRecipes('recipes: []\n', ours))).toEqual(ours.map((r) => r.name));
  });

  it('writes the list back in its own dash style', () => {
    const flat = 'recipes:\n# first\n- name: a\n  action: llm\n';
    const merged = mergeRecipes(flat, ours);
    expect(merged.startsWith(flat)).toBe(true);
    expect(merged).toContain('\n- name: storage-cleanup\n');
  });

  it('refuses a file with two recipes: keys, or none', () => {
    expect(() => mergeRecipes(`${HOST_RECIPES_YAML}recipes: []\n`, ours)).toThrow(/2 `recipes:` keys/);
    expect(() => mergeRecipes('other: 1\n', ours)).toThrow(/no `recipes:` key/);
  });
});

describe('placeBlock', () => {
  const body = 'echo "## Storage Pressure"\necho "Disk pressure: ok"\n';

  it('goes inside the final if … fi, indented like its body, once however often it is placed', () => {
    const once = placeBlock(HOST_PREFLIGHT_SH, body);
    const lines = once.split('\n');
    const fi = lines.lastIndexOf('fi');
    expect(lines[fi - 1]).toBe(`  ${BLOCK_END}`);
    expect(lines.filter((l) => l.trim() === BLOCK_BEGIN)).toHaveLength(1);
    expect(placeBlock(once, body)).toBe(once);
    expect(blockIn(once)).toBe(body.trimEnd());
    execFileSync('bash', ['-n'], { input: once });
  });

  it('tells a block inside the final if … fi from one moved out of it', () => {
    const once = placeBlock(HOST_PREFLIGHT_SH, body);
    expect(blockInsideFinalIf(once)).toBe(true);
    const moved = `${HOST_PREFLIGHT_SH}${BLOCK_BEGIN}\necho x\n${BLOCK_END}\n`;
    expect(blockInsideFinalIf(moved)).toBe(false);
    expect(blockInsideFinalIf(HOST_PREFLIGHT_SH)).toBe(false);
  });

  it('replaces an older block in place', () => {
    const once = placeBlock(HOST_PREFLIGHT_SH, 'echo old');
    const twice = placeBlock(once, body);
    expect(twice).toBe(placeBlock(HOST_PREFLIGHT_SH, body));
  });

  it('refuses a script without a final if … fi, or one whose final if has an else', () => {
    expect(() => placeBlock('#!/bin/bash\nmain "$@"\n', body)).toThrow(/does not end with an `if … fi`/);
    expect(() => placeBlock('if a; then\n  b\nelse\n  c\nfi\n', body)).toThrow(/`else` branch/);
  });

  it("points the snippet at our checkout from the host's script's own folder", () => {
    const snippet = readFileSync(path.join(REPO, 'integrations/preflight-snippet.sh'), 'utf8');
    const out = snippetFor(snippet, { fromRoot: 'tools/storage-preflight' });
    expect(out).toContain('/.." 2>/dev/null && pwd)/tools/storage-preflight}"');
    expect(() => snippetFor(snippet, { fromRoot: 'a"b' })).toThrow(/shell string/);
  });

  it('installed as a package outside the checkout: by its absolute path, and a script in the checkout runs ours', () => {
    const snippet = readFileSync(path.join(REPO, 'integrations/preflight-snippet.sh'), 'utf8');
    const out = snippetFor(snippet, { absolute: '/usr/local/lib/node_modules/storage-preflight' });
    expect(out).toMatch(/^_sp_dir="\$\{STORAGE_PREFLIGHT_DIR:-\/usr\/local\/lib\/node_modules\/storage-preflight\}"$/m);
    expect(() => snippetFor(snippet, { absolute: '/opt/a}b' })).toThrow(/shell string/);
    expect(pathFromRoot('/home/agent/repos/_factory', '/usr/local/lib/node_modules/storage-preflight')).toBeNull();
    expect(pathFromRoot('/f', '/f/tools/sp')).toBe('tools/sp');
    const wrapper = wrapperFor("/opt/it's here");
    expect(wrapper).toContain(`exec bash '/opt/it'\\''s here/integrations/actions/storage-cleanup.sh' "$@"`);
  });
});

describe('extendFormula', () => {
  it('keeps every host line, adds our steps before decide-actions, and a second run changes nothing', () => {
    const once = extendFormula(HOST_FORMULA, STEPS);
    expect(withoutBlock(once)).toBe(HOST_FORMULA);
    const ids = (parseToml(once) as { steps: { id: string }[] }).steps.map((s) => s.id);
    expect(ids).toEqual([
      'preflight',
      'health-assessment',
      'storage-assessment',
      'decide-actions',
      'report',
      'incidents',
      'journal',
    ]);
    expect(extendFormula(once, STEPS)).toBe(once);
  });

  it('appends at the end of a formula without decide-actions', () => {
    const plain = 'name = "x"\n\n[[steps]]\nid = "a"\nneeds = []\n';
    const once = extendFormula(plain, STEPS);
    expect(once.startsWith(plain)).toBe(true);
    expect(withoutBlock(once)).toBe(plain);
  });

  it('refuses a file that is not a formula', () => {
    expect(() => extendFormula('name = \n', STEPS)).toThrow(/does not parse as TOML/);
    expect(() => extendFormula('name = "x"\n', STEPS)).toThrow(/no `\[\[steps\]\]`/);
  });
});
