const SECTIONS = ['## What', '## Why', '## Unblocks', '## Human Action', '## Factory Will Then'];

/** The host's rule for a vault item: `# <title>`, then five non-empty sections, in order. */
export function itemProblems(text: string): string[] {
  const problems: string[] = [];
  if (!/^# \S.*\n/.test(text)) problems.push('no "# title" first line');
  let at = -1;
  for (const s of SECTIONS) {
    const i = text.indexOf(`\n${s}\n`);
    if (i <= at) problems.push(`${s} missing or out of order`);
    const next = text.indexOf('\n## ', i + 1);
    if (text.slice(i + s.length + 2, next < 0 ? undefined : next).trim() === '') problems.push(`${s} is empty`);
    at = i;
  }
  if ((text.match(/^## /gm) ?? []).length !== SECTIONS.length) problems.push('other ## headers');
  return problems;
}
