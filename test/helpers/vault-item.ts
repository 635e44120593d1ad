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

/** The reviewer's rule for `## Human Action`: every numbered step says where to run it, and its command follows in a fence. */
export function humanStepProblems(text: string): string[] {
  const body = /\n## Human Action\n([\s\S]*?)(?:\n## |$)/.exec(text)?.[1] ?? '';
  const problems: string[] = [];
  // Sample: `1. Or grow the filesystem holding /srv …; run it on the Docker host, as root:` then "   ```sh".
  const steps = [...body.matchAll(/^(\d+)\. (.*)\n(?! {3}`{3,}sh\n)/gm)];
  for (const m of steps) problems.push(`step ${m[1]} has no command: ${m[2]}`);
  for (const m of body.matchAll(/^(\d+)\. (.*)$/gm))
    if (!/; run it (on the Docker host, as root|in the agents container)\b/.test(m[2]!))
      problems.push(`step ${m[1]} says not where to run it`);
  if (!/^1\. /m.test(body)) problems.push('no step');
  return problems;
}
