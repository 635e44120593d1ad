/*
 * The host's recipe evaluator (supervisor/evaluate-recipes.sh), as the design
 * notes document it: only the named section is read, cut from `## <title>`
 * (or `## <title> (…`) to the next `## ` line; `disk_pct_gt` takes the first
 * `Disk:\s+([0-9]+)` of it (grep, so one line at a time); `field_eq` takes
 * the first line matching `^<field>:` case-insensitively, strips `<field>:`
 * and the blanks after it (sed, case-sensitive), and compares the rest for
 * equality. An absent action_script reads as `__MISSING__` (yq's `//`).
 */

export interface HostRecipe {
  name: string;
  severity: string;
  detect: { source: string; section: string; rule: string; threshold?: number; field?: string; value?: string };
  action: string;
  action_script?: string;
}

export interface Fired {
  name: string;
  severity: string;
  evidence: string;
  action: string;
  action_script: string;
}

/** The section's lines after its header, or null when no header matches. */
export function cutSection(text: string, title: string): string[] | null {
  const lines = text.split('\n');
  const start = lines.findIndex(
    (l) => l === `## ${title}` || l.startsWith(`## ${title} (`) || l.startsWith(`## ${title}(`),
  );
  if (start < 0) return null;
  const end = lines.findIndex((l, i) => i > start && l.startsWith('## '));
  return lines.slice(start + 1, end < 0 ? lines.length : end);
}

export function diskPct(section: readonly string[]): number | null {
  for (const line of section) {
    // Sample: `Disk: 83% used (41G/50G on /)` → 83.
    const m = /Disk:\s+([0-9]+)/.exec(line);
    if (m) return Number(m[1]);
  }
  return null;
}

export function fieldValue(section: readonly string[], field: string): string | null {
  const line = section.find((l) => l.toLowerCase().startsWith(`${field.toLowerCase()}:`));
  if (line === undefined) return null;
  return line.startsWith(`${field}:`) ? line.slice(field.length + 1).replace(/^\s+/, '') : line;
}

export function evaluate(recipes: readonly HostRecipe[], text: string): Fired[] {
  const fired: Fired[] = [];
  for (const r of recipes) {
    const section = cutSection(text, r.detect.section) ?? [];
    let evidence: string | null = null;
    if (r.detect.rule === 'disk_pct_gt') {
      const pct = diskPct(section);
      if (pct !== null && pct > Number(r.detect.threshold))
        evidence = `Disk: ${pct}% used (threshold: ${r.detect.threshold}%)`;
    } else if (r.detect.rule === 'field_eq') {
      const value = fieldValue(section, r.detect.field!);
      if (value === r.detect.value) evidence = `${r.detect.field}: ${value}`;
    } else {
      throw new Error(`recipe ${r.name}: rule ${r.detect.rule} is not one this evaluator knows`);
    }
    if (evidence !== null) {
      fired.push({
        name: r.name,
        severity: r.severity,
        evidence,
        action: r.action,
        action_script: r.action_script ?? '__MISSING__',
      });
    }
  }
  return fired;
}

/** The gate: no LLM when nothing fired, or when everything fired is `direct` with a script. */
export function wakesLlm(fired: readonly Pick<Fired, 'action' | 'action_script'>[]): boolean {
  return (
    fired.length > 0 &&
    !fired.every((f) => f.action === 'direct' && f.action_script !== '' && f.action_script !== '__MISSING__')
  );
}
