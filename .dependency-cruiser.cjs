/*
 * The floor plan of src/, checked by `npm run lint:deps` (part of `npm test`):
 * every import points down, and no file imports itself back through others.
 *
 * Why dependency-cruiser rather than an eslint boundaries rule: the project
 * has no linter, and this is one devDependency that reads the import graph
 * itself (type-only imports, re-exports and dynamic import() included,
 * resolved through tsconfig.json); the layers are plain path patterns of the
 * folders below; and it also finds circles between files, which an
 * import-by-import lint rule does not.
 *
 * Layers, top to bottom; a folder may import its own and any lower layer:
 *   cli → commands → run (the pipeline) → sections → render | config
 *   → probes | sinks | actuators → host → model → parse → text
 * Folders of one layer do not import each other.
 */
const LAYERS = [
  ['cli'],
  ['commands'],
  ['run'],
  ['sections'],
  ['render', 'config'],
  ['probes', 'sinks', 'actuators'],
  ['host'],
  ['model'],
  ['parse'],
  ['text'],
];

const folders = (names) => `^src/(${names.join('|')})/`;

const upward = LAYERS.flatMap((layer, i) => layer.map((folder) => {
  const above = LAYERS.slice(0, i).flat();
  const beside = layer.filter((f) => f !== folder);
  return {
    name: `${folder}-imports-down`,
    comment: `src/${folder}/ may import only lower layers (${LAYERS.slice(i + 1).flat().join(', ') || 'none'}) and itself`,
    severity: 'error',
    from: { path: folders([folder]) },
    to: { path: folders([...above, ...beside]) },
  };
}).filter((rule) => rule.to.path !== '^src/()/'));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'files that import each other in a loop: break it by moving the shared part down',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-loose-files',
      comment: 'every file of src/ lives in a layer folder',
      severity: 'error',
      from: { path: '^src/[^/]+$' },
      to: {},
    },
    ...upward,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
