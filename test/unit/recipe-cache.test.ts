import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatRecipeCache, parseRecipeCache, recipeCacheFile } from '../../src/model/recipe-cache.js';
import { recipeCacheFromRead } from '../../src/probes/recipe-cache.js';
import { writeRecipeCache } from '../../src/sinks/recipe-cache.js';
import { readHistoryWith } from '../../src/probes/history.js';
import { execRunner } from '../../src/host/exec.js';
import { useScratchDir } from '../helpers/scratch.js';

const id = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;
const recipes = new Map([
  [id(2), ['COPY busybox /bin/busybox # buildkit', 'CMD ["/bin/sh"]']],
  [id(1), []],
]);

describe('parseRecipeCache', () => {
  it('reads back what formatRecipeCache wrote, the same bytes whatever the insertion order', () => {
    const text = formatRecipeCache(recipes);
    expect(parseRecipeCache(text)).toEqual(recipes);
    expect(formatRecipeCache(new Map([...recipes].reverse()))).toBe(text);
  });

  it.each([
    ['not JSON', '{"v":1,'],
    ['another version', JSON.stringify({ v: 2, recipes: {} })],
    ['an unknown key', JSON.stringify({ v: 1, recipes: {}, extra: true })],
    ['an id that is not an image id', JSON.stringify({ v: 1, recipes: { 'sha256:abc': [] } })],
    ['a step that is not text', JSON.stringify({ v: 1, recipes: { [id(1)]: ['ok', 3] } })],
    ['a recipe that is not a list', JSON.stringify({ v: 1, recipes: { [id(1)]: 'RUN x' } })],
    ['a list at the top', '[]'],
  ])('refuses the whole cache for %s', (_, text) => {
    expect(parseRecipeCache(text)).toBeNull();
  });
});

/** As a run reads it: with the history, in one read. */
async function readRecipeCache(root: string) {
  const read = await readHistoryWith(execRunner, root, 1, new Date(), 5000, [recipeCacheFile(root)]);
  return read.others ? recipeCacheFromRead(read.others[0]) : { cache: new Map(), problem: read.window.problem };
}

describe('the cache file, written and read', () => {
  let root = '';
  useScratchDir('pf-recipes-', (d) => {
    root = d;
  });

  it('round-trips through a private folder it creates', async () => {
    expect(await readRecipeCache(root)).toEqual({ cache: new Map(), problem: null });
    expect(await writeRecipeCache(execRunner, root, recipes, 5000)).toBeNull();
    expect(await readRecipeCache(root)).toEqual({ cache: recipes, problem: null });
  });

  it('drops a tampered file and refuses a symlink', async () => {
    await mkdir(path.join(root, '.storage-preflight'), { mode: 0o700 });
    await writeFile(recipeCacheFile(root), '{"v":1,"recipes":{"x":[]}}');
    expect(await readRecipeCache(root)).toMatchObject({
      cache: new Map(),
      problem: expect.stringMatching(/not what this tool writes/),
    });
    await rm(recipeCacheFile(root));
    await writeFile(path.join(root, 'elsewhere.json'), formatRecipeCache(recipes));
    await symlink(path.join(root, 'elsewhere.json'), recipeCacheFile(root));
    expect(await readRecipeCache(root)).toMatchObject({ cache: new Map(), problem: expect.stringMatching(/^ELOOP/) });
    expect(await writeRecipeCache(execRunner, root, recipes, 5000)).toMatch(/^ELOOP/);
    expect(await readFile(path.join(root, 'elsewhere.json'), 'utf8')).toBe(formatRecipeCache(recipes));
  });
});
