import { execa } from 'execa';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify as stringifyYaml } from 'yaml';

/*
 * A strict reader of the text exposition format, as node_exporter's textfile
 * collector needs it: every family declared by `# HELP` then `# TYPE` before
 * its samples and never again; sample names that are the family's; label
 * values with only the three escapes (\\ \" \n); no timestamps; no duplicate
 * series; a file that ends with a complete line. It throws, naming the line,
 * on anything else, so a test that parses a file also checks it.
 */

export interface PromSeries {
  labels: Record<string, string>;
  value: number;
}

export interface PromFamily {
  help: string;
  type: string;
  series: PromSeries[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const VALUE = /^(?:[+-]?Inf|NaN|[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)$/;

function unescape(text: string, allowed: string, where: string): string {
  return text.replace(/\\(.?)/g, (_, c: string) => {
    if (!allowed.includes(c)) throw new Error(`${where}: escape \\${c} is not allowed here`);
    return c === 'n' ? '\n' : c;
  });
}

/** `{a="x",b="y"}` from `at` in `line` → labels and the index after `}`. */
function readLabels(line: string, at: number, where: string): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = at + 1;
  while (line[i] !== '}') {
    const eq = line.indexOf('="', i);
    if (eq < 0) throw new Error(`${where}: label without ="`);
    const name = line.slice(i, eq);
    if (!LABEL_NAME.test(name) || name in labels)
      throw new Error(`${where}: bad or repeated label name ${JSON.stringify(name)}`);
    let j = eq + 2;
    let raw = '';
    while (j < line.length && line[j] !== '"') {
      raw += line[j] === '\\' ? line.slice(j, j + 2) : line[j];
      j += line[j] === '\\' ? 2 : 1;
    }
    if (j >= line.length) throw new Error(`${where}: unterminated label value`);
    labels[name] = unescape(raw, '\\"n', where);
    i = j + 1;
    if (line[i] === ',') i += 1;
    else if (line[i] !== '}') throw new Error(`${where}: expected , or } after a label`);
  }
  return { labels, end: i + 1 };
}

export function parseExposition(text: string, opts: { comments?: boolean } = {}): Map<string, PromFamily> {
  if (text.length > 0 && !text.endsWith('\n'))
    throw new Error(`the last line is incomplete: ${JSON.stringify(text.slice(-80))}`);
  const families = new Map<string, PromFamily>();
  const seen = new Set<string>();
  let current = null as { name: string; family: PromFamily | null } | null;
  for (const [n, line] of text.slice(0, -1).split('\n').entries()) {
    const where = `line ${n + 1} ${JSON.stringify(line.slice(0, 120))}`;
    const help = /^# HELP (\S+) (.*)$/.exec(line);
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (help) {
      if (!NAME.test(help[1]!) || families.has(help[1]!) || current?.name === help[1])
        throw new Error(`${where}: bad or repeated family`);
      current = { name: help[1]!, family: null };
      families.set(help[1]!, { help: unescape(help[2]!, '\\n', where), type: '', series: [] });
    } else if (type) {
      if (!current || current.name !== type[1] || current.family)
        throw new Error(`${where}: TYPE must follow its family's HELP`);
      current.family = families.get(type[1]!)!;
      current.family.type = type[2]!;
    } else if (line.startsWith('#')) {
      if (!opts.comments) throw new Error(`${where}: a comment`);
    } else {
      const name = /^[^{ ]*/.exec(line)![0];
      if (!current?.family || name !== current.name)
        throw new Error(`${where}: sample outside its family (HELP and TYPE first)`);
      const { labels, end } =
        line[name.length] === '{' ? readLabels(line, name.length, where) : { labels: {}, end: name.length };
      const rest = line.slice(end);
      if (!/^ \S+$/.test(rest) || !VALUE.test(rest.slice(1)))
        throw new Error(`${where}: expected one value and no timestamp`);
      const key = JSON.stringify(Object.entries(labels).sort());
      if (seen.has(name + key)) throw new Error(`${where}: duplicate series`);
      seen.add(name + key);
      const v = rest.slice(1);
      current.family.series.push({
        labels,
        value: v.endsWith('Inf') ? (v.startsWith('-') ? -Infinity : Infinity) : Number(v),
      });
    }
  }
  return families;
}

/** The series of `family` whose labels include `match`. */
export function seriesOf(
  doc: Map<string, PromFamily>,
  family: string,
  match: Record<string, string> = {},
): PromSeries[] {
  return (doc.get(family)?.series ?? []).filter((s) => Object.entries(match).every(([k, v]) => s.labels[k] === v));
}

/** `promtool check metrics` on `text`: exit code and what it said (nothing when all is well). */
export async function promtoolCheckMetrics(text: string): Promise<{ exitCode: number; output: string }> {
  const res = await execa('promtool', ['check', 'metrics'], { input: text, reject: false, all: true, timeout: 30_000 });
  return { exitCode: res.exitCode ?? -1, output: String(res.all ?? '') };
}

export const RULES = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'integrations/prometheus/storage-preflight.rules.yaml',
);

/** One `promtool test rules` case: series in the input notation (`name{a="b"}`, `'1+0x10'`), alerts expected at times. */
export interface RulesTest {
  interval: string;
  input_series: { series: string; values: string }[];
  alert_rule_test: {
    eval_time: string;
    alertname: string;
    exp_alerts: { exp_labels: Record<string, string>; exp_annotations?: Record<string, string> }[];
  }[];
}

/** `promtool test rules` of `tests` against the rule file: exit code and output. */
export async function promtoolTestRules(
  rulesFile: string,
  tests: RulesTest[],
  dir: string,
): Promise<{ exitCode: number; output: string }> {
  const file = path.join(dir, `rules-test-${process.pid}-${Date.now()}.yaml`);
  await writeFile(file, stringifyYaml({ rule_files: [rulesFile], evaluation_interval: '1m', tests }));
  const res = await execa('promtool', ['test', 'rules', file], { reject: false, all: true, timeout: 60_000 });
  await rm(file, { force: true });
  return { exitCode: res.exitCode ?? -1, output: String(res.all ?? '') };
}

/**
 * The exposition's samples as promtool input series, each value held for
 * `points` intervals, with the target's labels (`instance="h"`) added as a
 * scrape adds them. Label values keep their escapes: the notation has the same.
 */
export function asInputSeries(text: string, points: number, target: string): RulesTest['input_series'] {
  // The notation has no +Inf: such a series (time to full when not filling) is left out.
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('#') && !l.endsWith('Inf'))
    .map((line) => {
      const cut = line.lastIndexOf(' ');
      const name = /^[^{ ]*/.exec(line)![0];
      const labels = line.slice(name.length, cut);
      return {
        series: `${name}{${target}${labels ? `,${labels.slice(1, -1)}` : ''}}`,
        values: `${line.slice(cut + 1)}+0x${points}`,
      };
    });
}
