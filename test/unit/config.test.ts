import { describe, expect, it } from 'vitest';
import { configFormat, configFromText } from '../../src/config/load.js';
import { closestKey } from '../../src/config/validate.js';
import { UsageError } from '../../src/model/errors.js';

/** The one-line message a config text is refused with (or a failure when it is accepted). */
async function refusal(text: string, file = 'config.yaml'): Promise<string> {
  const err = await configFromText(text, file).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UsageError);
  const message = (err as Error).message;
  expect(message).not.toContain('\n');
  return message;
}

describe('config: YAML and TOML map into one schema', () => {
  it('reads the same settings from either format', async () => {
    const yaml = `paths: [/srv, /var/log]\nbudget: 45\nall_mounts: true\ndisk_threshold: 85\ndocker_host: tcp://10.0.0.5:2375
journal: {root: /ops/journal, keep_days: 30}\nvault: {pending: /ops/vault/pending, actions: /ops/vault/actions}
action_script: ../pf/cleanup.sh\nprom_file: /var/lib/node_exporter/preflight.prom
remediation:\n  target_pct: 70\n  exited_container_grace: 2h\n  build_cache_reserve: 1G\n  keep_labels: [keep=yes]\n  keep_image_patterns: ['^base/']
escalation: {horizon: 12h, persist_runs: 5}\n`;
    const toml = `paths = ["/srv", "/var/log"]\nbudget = 45\nall_mounts = true\ndisk_threshold = 85\ndocker_host = "tcp://10.0.0.5:2375"
action_script = "../pf/cleanup.sh"\nprom_file = "/var/lib/node_exporter/preflight.prom"
[journal]\nroot = "/ops/journal"\nkeep_days = 30\n[vault]\npending = "/ops/vault/pending"\nactions = "/ops/vault/actions"
[remediation]\ntarget_pct = 70\nexited_container_grace = "2h"\nbuild_cache_reserve = "1G"\nkeep_labels = ["keep=yes"]\nkeep_image_patterns = ["^base/"]
[escalation]\nhorizon = "12h"\npersist_runs = 5\n`;
    const expected = {
      paths: ['/srv', '/var/log'],
      budgetSeconds: 45,
      allMounts: true,
      diskThresholdPct: 85,
      dockerHost: 'tcp://10.0.0.5:2375',
      journalRoot: '/ops/journal',
      journalKeepDays: 30,
      vaultPending: '/ops/vault/pending',
      vaultActions: '/ops/vault/actions',
      actionScript: '../pf/cleanup.sh',
      promFile: '/var/lib/node_exporter/preflight.prom',
      remediation: {
        targetPct: 70,
        exitedContainerGraceMs: 7_200_000,
        buildCacheReserveBytes: 2 ** 30,
        keepLabels: ['keep=yes'],
        keepImagePatterns: ['^base/'],
      },
      escalation: { horizonMs: 12 * 3_600_000, persistRuns: 5 },
    };
    expect(await configFromText(yaml, 'c.yaml')).toEqual(expected);
    expect(await configFromText(toml, 'c.toml')).toEqual(expected);
  });

  it('picks the parser by extension, else by the first statement', () => {
    expect(configFormat('/etc/p.yml', 'a = 1')).toBe('yaml');
    expect(configFormat('/etc/p.TOML', 'a: 1')).toBe('toml');
    expect(configFormat('/etc/preflight.conf', '# comment\n\nbudget = 45\n')).toBe('toml');
    expect(configFormat('/etc/preflight.conf', '[remediation]\ntarget_pct = 70\n')).toBe('toml');
    expect(configFormat('/etc/preflight.conf', 'budget: 45\n')).toBe('yaml');
    expect(configFormat('/etc/preflight.conf', '')).toBe('yaml');
  });

  it('takes a file of comments only, an empty section and `~` for a computed default as setting nothing', async () => {
    expect(await configFromText('# nothing yet\n', 'c.yaml')).toEqual({});
    expect(await configFromText('', 'c.toml')).toEqual({});
    expect(await configFromText('remediation:\n  # target_pct: 70\n', 'c.yaml')).toEqual({});
    expect(
      await configFromText('remediation: {target_pct: ~, build_cache_reserve: ~}\nprom_file: ~\n', 'c.yaml'),
    ).toEqual({});
  });

  it('accepts a few aliases (one list shared by two keys is plain YAML)', async () => {
    const c = await configFromText('paths: &p [/srv]\nremediation:\n  keep_labels: *p\n', 'c.yaml');
    expect(c).toEqual({ paths: ['/srv'], remediation: { keepLabels: ['/srv'] } });
  });
});

describe('config: one line naming the key, the value and what was expected', () => {
  it.each([
    // wrong type
    [
      'remediation:\n  target_pct: high\n',
      'config.yaml: remediation.target_pct: expected a percentage in (0, 100], got "high"',
    ],
    ['budget: "45"\n', 'config.yaml: budget: expected a number of seconds in (0, 3600], got "45"'],
    ['paths: /srv\n', 'config.yaml: paths: expected a list of non-empty strings, got "/srv"'],
    ['paths: [/srv, 3]\n', 'config.yaml: paths[1]: expected a non-empty string, got 3'],
    ['disk_threshold: ~\n', 'config.yaml: disk_threshold: expected a percentage in (0, 100], got null'],
    ['disk_threshold:\n', 'config.yaml: disk_threshold: expected a percentage in (0, 100], got null'],
    [
      'docker_host: ssh://me@host\n',
      'config.yaml: docker_host: expected a unix:///path or tcp://host:port address, got "ssh://me@host"',
    ],
    ['journal:\n  root: [/a]\n', 'config.yaml: journal.root: expected a non-empty string, got ["/a"]'],
    [
      'escalation:\n  persist_runs: {n: 3}\n',
      'config.yaml: escalation.persist_runs: expected a whole number of runs from 1 to 1000, got a mapping {"n":3}',
    ],
    // YAML 1.2: yes/on are strings, so a boolean key refuses them instead of reading true.
    ['all_mounts: yes\n', 'config.yaml: all_mounts: expected true or false, got "yes"'],
    ['all_mounts: on\n', 'config.yaml: all_mounts: expected true or false, got "on"'],
    ['%YAML 1.1\n---\nall_mounts: yes\n', 'config.yaml: all_mounts: expected true or false, got "yes"'],
    // out of range
    ['disk_threshold: 0\n', 'config.yaml: disk_threshold: expected a percentage in (0, 100], got 0'],
    ['disk_threshold: 100.5\n', 'config.yaml: disk_threshold: expected a percentage in (0, 100], got 100.5'],
    ['disk_threshold: .inf\n', 'config.yaml: disk_threshold: expected a percentage in (0, 100], got Infinity'],
    ['budget: 3601\n', 'config.yaml: budget: expected a number of seconds in (0, 3600], got 3601'],
    [
      'journal: {keep_days: 0}\n',
      'config.yaml: journal.keep_days: expected a whole number of days from 1 to 3660, got 0',
    ],
    [
      'escalation: {persist_runs: 1.5}\n',
      'config.yaml: escalation.persist_runs: expected a whole number of runs from 1 to 1000, got 1.5',
    ],
    // bad duration, size, regular expression
    [
      'escalation: {horizon: 1 week}\n',
      'config.yaml: escalation.horizon: expected a duration such as 0s, 90m, 24h or 7d, got "1 week"',
    ],
    [
      'remediation: {exited_container_grace: 24}\n',
      'config.yaml: remediation.exited_container_grace: expected a duration such as 0s, 90m, 24h or 7d, got 24',
    ],
    [
      'remediation: {build_cache_reserve: lots}\n',
      'config.yaml: remediation.build_cache_reserve: expected a size such as 10G, 500M or 1048576, got "lots"',
    ],
    [
      'remediation: {build_cache_reserve: -1}\n',
      'config.yaml: remediation.build_cache_reserve: expected a size such as 10G, 500M or 1048576, got -1',
    ],
    [
      "remediation:\n  keep_image_patterns: ['^ok/', '(unclosed']\n",
      'config.yaml: remediation.keep_image_patterns[1]: expected a regular expression, got "(unclosed" (Invalid regular expression: /(unclosed/: Unterminated group)',
    ],
    // not a mapping
    [
      '- /srv\n- /var\n',
      'config.yaml: expected a mapping of keys such as \'disk_threshold: 80\' at the top, got ["/srv","/var"]',
    ],
    [
      'just words\n',
      'config.yaml: expected a mapping of keys such as \'disk_threshold: 80\' at the top, got "just words"',
    ],
    [
      'remediation: yes\n',
      'config.yaml: remediation: expected a mapping of keys (a [remediation] table in TOML), got "yes"',
    ],
    // duplicate keys
    ['budget: 30\nbudget: 45\n', "config.yaml: line 2, column 1: duplicate key 'budget' (each key may appear once)"],
    [
      'remediation:\n  keep_labels: []\n  keep_labels: [a]\n',
      "config.yaml: line 3, column 3: duplicate key 'keep_labels' (each key may appear once)",
    ],
    [
      'vault: {pending: /a, "pending": /b}\n',
      "config.yaml: line 1, column 22: duplicate key 'pending' (each key may appear once)",
    ],
    // what else YAML can say that a config must not
    [
      'a: 1\n---\nb: 2\n',
      'config.yaml: line 2, column 1: Source contains multiple documents; please use YAML.parseAllDocuments()',
    ],
    ['budget: !seconds 45\n', 'config.yaml: line 1, column 9: Unresolved tag: !seconds'],
    ['budget: "45\n', 'config.yaml: line 2, column 1: Missing closing "quote'],
    ['paths: *nowhere\n', 'config.yaml: Unresolved alias (the anchor must be set before the alias): nowhere'],
  ])('refuses %j', async (text, message) => {
    expect(await refusal(text)).toBe(message);
  });

  it('refuses an alias bomb before expanding it', async () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i += 1)
      levels.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(', ')}]`,
      );
    const started = Date.now();
    expect(await refusal(`${levels.join('\n')}\n`)).toMatch(
      /^config\.yaml: Excessive alias count indicates a resource exhaustion attack$/,
    );
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('refuses TOML errors the same way, duplicate keys included', async () => {
    expect(await refusal('budget = 30\nbudget = 45\n', 'c.toml')).toBe(
      'c.toml: line 2, column 1: trying to redefine an already defined table or value',
    );
    expect(await refusal('[remediation]\ntarget_pct = "high"\n', 'c.toml')).toBe(
      'c.toml: remediation.target_pct: expected a percentage in (0, 100], got "high"',
    );
    expect(await refusal('remediation = "yes"\n', 'c.toml')).toBe(
      'c.toml: remediation: expected a mapping of keys (a [remediation] table in TOML), got "yes"',
    );
    expect(await refusal('[escalation]\nhorizon = 1979-05-27\n', 'c.toml')).toBe(
      'c.toml: escalation.horizon: expected a duration such as 0s, 90m, 24h or 7d, got a date (1979-05-27)',
    );
  });
});

describe('config: an unknown key names the closest known one', () => {
  it.each([
    [
      'remediation:\n  keep_lables: []\n',
      "config.yaml: unknown key 'remediation.keep_lables' (did you mean 'remediation.keep_labels'?)",
    ],
    ['disk_treshold: 85\n', "config.yaml: unknown key 'disk_treshold' (did you mean 'disk_threshold'?)"],
    // In the wrong section: the same name where it belongs.
    ['target_pct: 70\n', "config.yaml: unknown key 'target_pct' (did you mean 'remediation.target_pct'?)"],
    [
      'escalation: {horizon: 24h, persist_run: 3}\n',
      "config.yaml: unknown key 'escalation.persist_run' (did you mean 'escalation.persist_runs'?)",
    ],
    ['frobnicate: 1\n', "config.yaml: unknown key 'frobnicate' (integrations/preflight.example.yaml lists every key)"],
    // Merge keys are off: `<<` is a key like any other.
    [
      'base: &b {budget: 30}\n<<: *b\n',
      "config.yaml: unknown key 'base' (integrations/preflight.example.yaml lists every key)",
    ],
    [
      '__proto__: {budget: 30}\n',
      "config.yaml: unknown key '__proto__' (integrations/preflight.example.yaml lists every key)",
    ],
    ['"a\\nb": 1\n', "config.yaml: unknown key 'a\\nb' (integrations/preflight.example.yaml lists every key)"],
  ])('%j', async (text, message) => {
    expect(await refusal(text)).toBe(message);
  });

  it('names a huge key cut short, promptly (no edit distance over it)', async () => {
    const started = Date.now();
    // YAML caps an implicit key at 1024 characters; a TOML quoted key has no cap.
    const message = await refusal(`"${'k'.repeat(200_000)}" = 1\n`, 'config.toml');
    expect(message).toBe(
      `config.toml: unknown key '${'k'.repeat(100)}…' (integrations/preflight.example.yaml lists every key)`,
    );
    expect(Date.now() - started).toBeLessThan(2000);
    expect(closestKey('x'.repeat(50))).toBeNull();
  });
});
