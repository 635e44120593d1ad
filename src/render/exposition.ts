/*
 * The Prometheus text exposition format (0.0.4), as node_exporter's textfile
 * collector reads it: `# HELP`, `# TYPE`, then `name{label="value"} number`
 * lines. No timestamps: the collector drops a whole file that has one.
 */

export type Labels = Readonly<Record<string, string>>;

/** One series; a value that is null, undefined or NaN is unknown, and its series is left out. */
export type Sample = readonly [Labels, number | null | undefined];

// Lone UTF-16 surrogates would be written as U+FFFD anyway; doing it here keeps keys and output in step.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** A label value: backslash, double quote and line feed are the format's three escapes; the rest is UTF-8 as is. */
export function labelValue(value: string): string {
  return value.replace(LONE_SURROGATE, '\ufffd').replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

/** HELP text escapes only backslash and line feed. */
export function helpText(text: string): string {
  return text.replace(LONE_SURROGATE, '\ufffd').replace(/[\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\\\'));
}

/** Go's ParseFloat spellings: `+Inf`, `-Inf`; JavaScript's exponent form (`1e+21`) is one of them. */
export function sampleValue(n: number): string {
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

/**
 * One gauge family, or nothing when it has no known value. Series are sorted
 * by their label text (code units, not locale) so the same state prints the
 * same file; a repeated label set keeps its first value (the format forbids
 * duplicates).
 */
export function gaugeFamily(name: string, help: string, samples: readonly Sample[]): string[] {
  const series = new Map<string, string>();
  for (const [labels, value] of samples) {
    if (value === null || value === undefined || Number.isNaN(value)) continue;
    const key = Object.entries(labels)
      .map(([k, v]) => `${k}="${labelValue(v)}"`)
      .join(',');
    if (!series.has(key)) series.set(key, `${name}${key ? `{${key}}` : ''} ${sampleValue(value)}`);
  }
  if (series.size === 0) return [];
  const sorted = [...series].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, line]) => line);
  return [`# HELP ${name} ${helpText(help)}`, `# TYPE ${name} gauge`, ...sorted];
}
