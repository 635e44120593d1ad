import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCliArgs } from '../../src/cli/args.js';
import { resolveOptions } from '../../src/cli/dispatch.js';
import { configFromText, parseConfigText } from '../../src/config/load.js';
import { CONFIG_KEYS, type FileConfig } from '../../src/config/schema.js';
import { configFromDocument } from '../../src/config/validate.js';

const EXAMPLE_FILE = 'integrations/preflight.example.yaml';
const example = readFileSync(new URL(`../../${EXAMPLE_FILE}`, import.meta.url), 'utf8');
const HOST_ENV = { OPS_REPO_ROOT: '/ops', FACTORY_ROOT: '/factory' };

function lookup(doc: unknown, dotted: string): unknown {
  return dotted
    .split('.')
    .reduce<unknown>(
      (at, part) =>
        at && typeof at === 'object' && Object.hasOwn(at, part) ? (at as Record<string, unknown>)[part] : undefined,
      doc,
    );
}

describe(EXAMPLE_FILE, () => {
  it('names every key of the schema', async () => {
    const doc = await parseConfigText(example, 'yaml', EXAMPLE_FILE);
    const missing = CONFIG_KEYS.filter((k) => lookup(doc, k.key) === undefined).map((k) => k.key);
    expect(missing).toEqual([]);
    // A literal default wherever one can be written; `~` only where the default is computed or none.
    const nulls = CONFIG_KEYS.filter((k) => lookup(doc, k.key) === null).map((k) => k.key);
    expect(nulls).toEqual(CONFIG_KEYS.filter((k) => k.nullIsDefault).map((k) => k.key));
  });

  it.each([
    ['no environment', {}],
    ["the host's environment", HOST_ENV],
  ])('parses to exactly the defaults (%s), for every command', async (_, env) => {
    const config = await configFromText(example, EXAMPLE_FILE);
    for (const argv of [[], ['remediate'], ['trend']]) {
      const args = parseCliArgs(argv);
      expect(resolveOptions(args, config, env)).toEqual(resolveOptions(args, {}, env));
    }
  });
});

/** A value other than the default for every key: each must reach RunOptions. */
const SAMPLES: Record<string, string> = {
  paths: '[/srv]',
  all_mounts: 'true',
  budget: '45',
  disk_threshold: '85',
  docker_host: 'tcp://10.0.0.5:2375',
  action_script: 'x/cleanup.sh',
  prom_file: '/tmp/p.prom',
  notify: '[https://ntfy.sh/storage-alerts]',
  notify_cooldown: '2h',
  'journal.root': '/j',
  'journal.keep_days': '30',
  'vault.pending': '/v',
  'vault.actions': '/va',
  'remediation.target_pct': '60',
  'remediation.dangling_image_min_age': '2h',
  'remediation.exited_container_grace': '2h',
  'remediation.build_cache_min_age': '2h',
  'remediation.unused_image_min_age': '2h',
  'remediation.build_cache_reserve': '1G',
  'remediation.keep_labels': '[mine]',
  'remediation.keep_image_patterns': "['^base/']",
  'remediation.rules': '[{name: logs, root: /srv/app, match: "*.log", action: truncate, larger_than: 10M}]',
  'escalation.horizon': '2h',
  'escalation.persist_runs': '5',
};

function yamlSetting(dotted: string, value: string): string {
  const parts = dotted.split('.');
  return parts.map((p, i) => `${'  '.repeat(i)}${p}:${i === parts.length - 1 ? ` ${value}` : ''}`).join('\n');
}

describe('every schema key takes effect', () => {
  it('has a sample for every key', () => {
    expect(Object.keys(SAMPLES).sort()).toEqual(CONFIG_KEYS.map((k) => k.key).sort());
  });

  it.each(CONFIG_KEYS.map((k) => k.key))('%s', async (key) => {
    const config = await configFromText(yamlSetting(key, SAMPLES[key]!), 'c.yaml');
    const args = parseCliArgs(['remediate']);
    expect(resolveOptions(args, config, {})).not.toEqual(resolveOptions(args, {}, {}));
  });
});

describe('precedence: flag > environment > config file > default', () => {
  const config: FileConfig = {
    dockerHost: 'unix:///cfg.sock',
    journalRoot: '/cfg/journal',
    vaultPending: '/cfg/pending',
    vaultActions: '/cfg/actions',
    actionScript: 'cfg/cleanup.sh',
    diskThresholdPct: 90,
    budgetSeconds: 30,
    journalKeepDays: 10,
    paths: ['/cfg'],
    remediation: { exitedContainerGraceMs: 1000, keepLabels: ['cfg'] },
    escalation: { horizonMs: 5000, persistRuns: 7 },
  };

  it('the file beats the defaults, including those derived from OPS_REPO_ROOT and FACTORY_ROOT', () => {
    const o = resolveOptions(parseCliArgs(['remediate']), config, HOST_ENV);
    expect(o).toMatchObject({
      docker: { kind: 'unix', socketPath: '/cfg.sock' },
      journalRoot: '/cfg/journal',
      vault: { pending: '/cfg/pending', actions: '/cfg/actions' },
      actionScript: 'cfg/cleanup.sh',
      diskThresholdPct: 90,
      budgetMs: 30_000,
      journalKeepDays: 10,
      paths: ['/cfg'],
      escalation: { horizonMs: 5000, persistRuns: 7 },
    });
    // The target follows the file's threshold (90 → 85) unless the file sets one.
    expect(o.remediation.policy).toMatchObject({ exitedContainerGraceMs: 1000, keepLabels: ['cfg'], targetPct: 85 });
  });

  it('a variable naming the setting beats the file; an empty one counts as unset', () => {
    const env = {
      DOCKER_HOST: 'tcp://10.0.0.9:2375',
      OPS_JOURNAL_ROOT: '/env/journal',
      OPS_VAULT_ROOT: '/env/pending',
    };
    expect(resolveOptions(parseCliArgs([]), config, env)).toMatchObject({
      docker: { kind: 'tcp', host: '10.0.0.9' },
      journalRoot: '/env/journal',
      vault: { pending: '/env/pending' },
    });
    const empty = { DOCKER_HOST: '', OPS_JOURNAL_ROOT: '', OPS_VAULT_ROOT: '' };
    expect(resolveOptions(parseCliArgs([]), config, empty)).toMatchObject({
      docker: { socketPath: '/cfg.sock' },
      journalRoot: '/cfg/journal',
      vault: { pending: '/cfg/pending' },
    });
  });

  it('a flag beats both', () => {
    const env = { OPS_JOURNAL_ROOT: '/env/journal', OPS_VAULT_ROOT: '/env/pending' };
    const args = parseCliArgs([
      'remediate',
      '--journal',
      '/flag/j',
      '--vault',
      '/flag/v',
      '--vault-actions',
      '/flag/a',
      '--action-script',
      'flag.sh',
      '--disk-threshold',
      '70',
      '--budget',
      '20',
      '--journal-keep-days',
      '3',
      '--escalate-horizon',
      '1h',
      '--min-age',
      '0s',
      '--path',
      '/flag',
    ]);
    const o = resolveOptions(args, config, env);
    expect(o).toMatchObject({
      journalRoot: '/flag/j',
      vault: { pending: '/flag/v', actions: '/flag/a' },
      actionScript: 'flag.sh',
      diskThresholdPct: 70,
      budgetMs: 20_000,
      journalKeepDays: 3,
      escalation: { horizonMs: 3_600_000, persistRuns: 7 },
      paths: ['/cfg', '/flag'],
    });
    expect(o.remediation.policy).toMatchObject({ exitedContainerGraceMs: 0, targetPct: 65, keepLabels: ['cfg'] });
    expect(
      resolveOptions(
        parseCliArgs(['remediate', '--target-pct', '50']),
        { ...config, remediation: { targetPct: 60 } },
        {},
      ).remediation.policy.targetPct,
    ).toBe(50);
    expect(resolveOptions(parseCliArgs(['--no-journal']), config, env).journalRoot).toBeNull();
  });
});

describe('the README', () => {
  const readme = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('## Config file'));

  it('shows a YAML config the schema accepts', async () => {
    const block = /```yaml\n([\s\S]*?)```/.exec(section)![1]!;
    expect(await configFromText(block, 'README.yaml')).toMatchObject({
      diskThresholdPct: 85,
      remediation: { buildCacheReserveBytes: 10 * 2 ** 30 },
    });
  });

  it('shows a TOML config the same schema accepts', async () => {
    const block = /TOML is still read[\s\S]*?```toml\n([\s\S]*?)```/.exec(section)![1]!;
    const config = configFromDocument(await parseConfigText(block, 'toml', 'README.md'), 'README.md');
    expect(config.remediation).toMatchObject({
      targetPct: 75,
      unusedImageMinAgeMs: 7 * 86_400_000,
      keepLabels: ['storage-preflight.keep'],
    });
  });

  it('names every key of the schema in its table', () => {
    const table = section.slice(0, section.indexOf('```'));
    const missing = CONFIG_KEYS.map((k) => k.key).filter(
      (k) => !table.includes(`\`${k}\``) && !table.includes(`\`${k.slice(k.indexOf('.') + 1)}\``),
    );
    expect(missing).toEqual([]);
  });
});
