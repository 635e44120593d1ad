import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO } from './preflight.js';

/*
 * A stand-in for the supervisor's checkout, written from the schema facts in
 * the design notes (our own words, not the host's files): a recipe file with
 * a dozen commented recipes in one `recipes:` list, a preflight script that
 * is also sourced by another (its final `if … fi` runs only as a program),
 * and a supervisor formula with content of its own. Our checkout sits inside
 * it, as the install requires.
 */

const HOST_RECIPE_NAMES = [
  'memory-low',
  'swap-heavy',
  'disk-pressure',
  'agent-stopped',
  'ci-stuck',
  'git-broken',
  'docker-down',
  'queue-backlog',
  'stale-locks',
  'log-growth',
  'vault-waiting',
  'phase-files',
];

export const HOST_RECIPES_YAML = [
  '# Supervisor recipes: one per condition the preflight output can show.',
  '# The evaluator reads a single section per recipe.',
  '',
  'recipes:',
  ...HOST_RECIPE_NAMES.flatMap((name, i) => [
    `  # ${name}: kept short on purpose`,
    `  - name: ${name}`,
    `    severity: P${i % 5}`,
    '    detect:',
    '      source: preflight',
    `      section: "${i % 2 ? 'System Resources' : 'Docker'}"`,
    ...(name === 'disk-pressure'
      ? ['      rule: disk_pct_gt', '      threshold: 80']
      : ['      rule: field_eq', `      field: ${name}`, '      value: yes']),
    `    action: ${name === 'disk-pressure' ? 'direct' : 'llm'}`,
    ...(name === 'disk-pressure' ? ['    action_script: supervisor/actions/disk-pressure.sh'] : []),
  ]),
  '',
].join('\n');

export const HOST_PREFLIGHT_SH = `#!/usr/bin/env bash
# Collects the state the supervisor reads. Another script sources this one for
# its helpers, so the work happens only when it runs as a program.
set -euo pipefail

section() { printf '## %s\\n' "$1"; }

resources() {
  section "System Resources"
  echo "RAM: 2048 MB free"
  echo "Disk: 41% used"
}

if [[ "\${BASH_SOURCE[0]}" == "\${0}" ]]; then
  resources
  echo ""
fi
`;

/** A script of the host's that sources preflight.sh for its helpers, then uses one. */
export const HOST_SOURCER_SH = `#!/usr/bin/env bash
set -euo pipefail
source "$(dirname "$0")/preflight.sh"
section "Phase files"
`;

export const HOST_FORMULA = `# The supervisor's formula: pasted into the prompt as it stands.
name        = "run-supervisor"
description = "Keep the factory healthy"
version     = 1
model       = "sonnet"

[context]
files = ["AGENTS.md", "knowledge/disk.md", "knowledge/memory.md"]

[[steps]]
id    = "preflight"
title = "Read the state"
description = """
Read the preflight output, then the Woodpecker pipelines that failed since the last run.
"""
needs = []

[[steps]]
id    = "health-assessment"
title = "Rank the findings"
description = """
P0 memory, P1 disk, P2 stopped, P3 degraded, P4 housekeeping.
"""
needs = ["preflight"]

[[steps]]
id    = "decide-actions"
title = "Act"
description = """
Fix what is safe; anything you cannot fix: print PHASE:escalate and stop.
"""
needs = ["health-assessment"]

[[steps]]
id    = "report"
title = "Report"
description = "One line per finding."
needs = ["decide-actions"]

[[steps]]
id    = "incidents"
title = "Incidents"
description = """
P0–P2: write them with supervisor/write-incident.sh (it redacts secrets).
"""
needs = ["report"]

[[steps]]
id    = "journal"
title = "Journal"
description = "Append the run to today's journal."
needs = ["incidents"]
`;

export interface HostTreePaths {
  factoryRoot: string;
  /** Our checkout inside it: the files the install reads, and ./preflight linked to this repository's. */
  ourRoot: string;
}

export function makeHostTree(): HostTreePaths {
  const factoryRoot = mkdtempSync(path.join(tmpdir(), 'pf-host-'));
  mkdirSync(path.join(factoryRoot, 'supervisor'));
  mkdirSync(path.join(factoryRoot, 'formulas'));
  writeFileSync(path.join(factoryRoot, 'supervisor', 'recipes.yaml'), HOST_RECIPES_YAML);
  writeFileSync(path.join(factoryRoot, 'supervisor', 'preflight.sh'), HOST_PREFLIGHT_SH, { mode: 0o755 });
  writeFileSync(path.join(factoryRoot, 'supervisor', 'cleanup-phase-files.sh'), HOST_SOURCER_SH, { mode: 0o755 });
  writeFileSync(path.join(factoryRoot, 'formulas', 'run-supervisor.toml'), HOST_FORMULA);
  const ourRoot = path.join(factoryRoot, 'storage-preflight');
  for (const rel of [
    'integrations/preflight-snippet.sh',
    'integrations/run-supervisor-storage.toml',
    'integrations/actions/storage-cleanup.sh',
    'formulas/storage-remediation.toml',
  ]) {
    mkdirSync(path.dirname(path.join(ourRoot, rel)), { recursive: true });
    copyFileSync(path.join(REPO, rel), path.join(ourRoot, rel));
  }
  symlinkSync(path.join(REPO, 'preflight'), path.join(ourRoot, 'preflight'));
  return { factoryRoot, ourRoot };
}

/** Every file under the host's folders with its bytes and mode: to prove a dry run wrote nothing. */
export function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out[path.relative(root, p)] = `${statSync(p).mode}:${readFileSync(p, 'base64')}`;
    }
  };
  walk(root);
  return out;
}
