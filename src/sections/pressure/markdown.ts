import { formatBytes } from '../../text/bytes.js';
import { code, inline, markdownOfPlain } from '../../text/escape.js';
import { table } from '../../render/table.js';
import type { PressureData } from '../../model/pressure.js';
import type { Attribution, Source } from '../../model/attribution.js';
import { byText } from '../../text/order.js';
import { staleLine } from '../../model/last-measured.js';
import { deletedOpenLines } from './deleted-open.js';
import { growingText } from '../../render/growing-objects.js';

/** Filesystems on the `Pressure (used / capacity):` line. */
const MAX_RATIOS = 10;

const share = (part: number, whole: number) => (whole > 0 ? `${Math.round((part / whole) * 100)}%` : '—');

/** A source's kind; the remainder says when it holds what Docker did not size this run. */
function kindLabel(s: Source, a: Attribution): string {
  return s.kind === 'outside-docker' && a.stale.length ? `${s.kind} (with what Docker did not size this run)` : s.kind;
}

/** The split of one filesystem's used bytes, with what does not add up and why. */
function sourcesTable(a: Attribution): string[] {
  const rows = table(
    ['Source', 'Bytes', 'Share of used', 'Reclaimable'],
    a.sources.map((s) => [
      `${kindLabel(s, a)}${s.countsInUsed ? '' : ' (not in used)'}`,
      formatBytes(s.bytes),
      s.countsInUsed ? share(s.bytes, a.usedBytes) : '—',
      formatBytes(s.reclaimableBytes),
    ]),
  );
  const lines = [...rows, ''];
  if (a.unattributedBytes < 0)
    lines.push(
      `Docker's figures exceed the filesystem's used bytes by ${formatBytes(-a.unattributedBytes)} (shared extents or volumes elsewhere).`,
    );
  for (const n of a.notes) lines.push(inline(n, 400));
  const stale = staleLine(a.stale);
  if (stale) lines.push(stale);
  return lines;
}

export function pressureMarkdown(d: PressureData): string[] {
  const a = d.attribution;
  const lines: string[] = [];
  if (!a) {
    lines.push('Verdict: unknown: neither the Docker data root nor / could be measured.');
  } else {
    // Named by what fills df's used; unused btrfs chunks press elsewhere and get their own clause.
    const top = a.sources.filter((s) => s.countsInUsed && s.bytes > 0).slice(0, 2);
    const chunks = a.sources.find((s) => !s.countsInUsed && s.bytes > 0);
    const used = `${inline(a.mountpoint)} is ${a.usedPct}% used (${formatBytes(a.usedBytes)} of ${formatBytes(a.sizeBytes)})`;
    const named = top.map(
      (s, i) =>
        `${i === 0 ? 'top source' : 'then'} ${kindLabel(s, a)} ${formatBytes(s.bytes)} (${share(s.bytes, a.usedBytes)} of used${s.reclaimableBytes > 0 ? `, ${formatBytes(s.reclaimableBytes)} reclaimable` : ''})`,
    );
    const chunkNote = chunks
      ? `; btrfs: ${chunks.kind} ${formatBytes(chunks.bytes)} hold unallocated space metadata needs (see ## Btrfs)`
      : '';
    const growing = d.growingObjects.length ? `; growing: ${d.growingObjects.map(growingText).join(', ')}` : '';
    lines.push(`Verdict: ${used}; ${named.join(', ') || 'nothing used'}${growing}${chunkNote}.`);
    lines.push('', ...sourcesTable(a));
  }
  const c = d.containerdAttribution;
  if (c) {
    lines.push(
      `containerd's root lies on ${inline(c.mountpoint)}, ${c.usedPct}% used (${formatBytes(c.usedBytes)} of ${formatBytes(c.sizeBytes)}): its sources there:`,
      '',
      ...sourcesTable(c),
    );
  }
  if (d.outsideDocker) {
    const dirs = d.outsideDocker.map(
      (o) =>
        `${inline(o.path)} ${formatBytes(o.bytes)}${o.largestChild ? ` (largest: ${inline(o.largestChild.path)} ${formatBytes(o.largestChild.bytes)})` : ''}`,
    );
    lines.push(`Outside Docker, biggest directories: ${dirs.join('; ') || 'none found'}.`);
  } else if (d.outsideDockerProblem) {
    lines.push(`Outside Docker: ${inline(d.outsideDockerProblem)}.`);
  }
  if (d.largestFiles) {
    // Allocated bytes, as du counts the directories above.
    const files = d.largestFiles.map((f) => `${inline(f.path, 120)} ${formatBytes(f.bytes)}`);
    lines.push(`Outside Docker, largest files: ${files.join('; ') || 'none found'}.`);
  }
  if (d.deletedOpen) lines.push(...deletedOpenLines(d.deletedOpen));
  // The highest ratios only: a thousand filesystems must not make a thousand-item line.
  const measured = d.pressure
    .filter((p) => p.ratio !== null)
    .sort((a, b) => b.ratio! - a.ratio! || byText(a.mountpoint, b.mountpoint));
  const ratios = measured.slice(0, MAX_RATIOS).map((p) => `${inline(p.mountpoint)} ${p.ratio!.toFixed(3)}`);
  const more = measured.length > MAX_RATIOS ? `, … and ${measured.length - MAX_RATIOS} more` : '';
  if (ratios.length) lines.push(`Pressure (used / capacity): ${ratios.join(', ')}${more}.`);
  lines.push(
    d.findings.length
      ? `Findings: ${d.findings.map((f) => `${f.severity} ${f.name} (${markdownOfPlain(f.evidence)})`).join(' | ')}`
      : 'Findings: none.',
  );
  return lines;
}
