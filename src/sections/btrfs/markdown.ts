import { formatBytes } from '../../text/bytes.js';
import { code, inline, shellQuote } from '../../text/escape.js';
import { table } from '../../render/table.js';
import { roleLabel } from '../filesystem.js';
import type { BtrfsData, BtrfsFilesystem } from '../../model/btrfs.js';

const TOP_N = 5;

export function btrfsMarkdown(data: BtrfsData): string[] {
  return data.filesystems.flatMap((fs, i) => [...(i > 0 ? [''] : []), ...filesystemLines(fs)]);
}

function filesystemLines(fs: BtrfsFilesystem): string[] {
  const b = (n: number | null | undefined) => (n === null || n === undefined ? '?' : formatBytes(n));
  const lines = [`${inline(fs.mountpoint)} (btrfs on ${inline(fs.device)}; ${fs.roles.map(roleLabel).join(', ')})`];
  for (const p of fs.problems) lines.push(`Not measured: ${inline(p, 240)}.`);
  const u = fs.usage;
  const a = fs.assessment;
  if (u && a) {
    lines.push(
      `Allocation: device ${b(u.deviceSize)}, allocated ${b(u.deviceAllocated)}, unallocated ${b(u.deviceUnallocated)}; used ${b(u.used)}; free (estimated) ${b(u.freeEstimated)}${u.freeEstimatedMin !== null ? ` (min ${b(u.freeEstimatedMin)})` : ''}; data ratio ${u.dataRatio?.toFixed(2) ?? '?'}, metadata ratio ${u.metadataRatio?.toFixed(2) ?? '?'}; global reserve ${b(u.globalReserve)}${u.globalReserveUsed !== null ? ` (used ${b(u.globalReserveUsed)})` : ''}.`,
    );
    lines.push(
      ...table(
        ['Type', 'Profile', 'Size', 'Used', 'Use%'],
        u.groups.map((g) => [
          inline(g.type),
          inline(g.profile),
          b(g.size),
          b(g.used),
          g.size > 0 ? `${Math.round((g.used / g.size) * 100)}%` : '—',
        ]),
      ),
    );
    lines.push(
      a.verdictText
        ? `Verdict: ${a.verdict === 'exhausted' ? 'CRITICAL' : 'RISK'}: ${a.verdictText} Remedy: ${code(`btrfs balance start -dusage=0 ${shellQuote(fs.mountpoint)}`)}, then -dusage=10..50 in steps to return data chunks to unallocated (a balance itself needs some unallocated space).`
        : `Verdict: metadata OK (${a.metadataFullness === null ? '?' : `${Math.round(a.metadataFullness * 100)}% full with the reserve`}; ${b(u.deviceUnallocated)} unallocated, guideline ≥ ${b(a.unallocatedGuideline)}).`,
    );
    if (a.unusedDataChunkBytes > 0) {
      lines.push(
        `Allocated but unused data chunks: ${b(a.unusedDataChunkBytes)}; a filtered balance (${code(`btrfs balance start -dusage=10 ${shellQuote(fs.mountpoint)}`)}) can return them to unallocated.`,
      );
    }
  }
  const d = fs.docker;
  if (d) {
    const quotas =
      d.quotas === 'enabled'
        ? 'quotas on'
        : 'quotas off (per-subvolume sizes need quotas; this tool never enables them, they are costly)';
    lines.push(
      `Docker subvolumes: ${d.subvolumes} (${d.layerSubvolumes} layer/container, ${d.buildkitSubvolumes} BuildKit); ${quotas}.`,
    );
    if (d.qgroups.length) {
      lines.push(
        `Largest by exclusive bytes: ${d.qgroups
          .slice(0, TOP_N)
          .map((q) => `${short(q.name)} ${b(q.exclusiveBytes)} excl / ${b(q.referencedBytes)} ref`)
          .join('; ')}${d.qgroups.length > TOP_N ? `; … and ${d.qgroups.length - TOP_N} more` : ''}`,
      );
    }
    if (d.orphans.length) {
      const source = d.orphans[0]?.sizeSource === 'qgroup' ? 'qgroup exclusive' : '`btrfs filesystem du` exclusive';
      lines.push(
        `Orphaned Docker subvolumes (no layerdb reference): ${d.orphans.length}, ${b(d.orphanBytes)} (${source}): ${d.orphans
          .slice(0, TOP_N)
          .map((o) => `${short(o.name)} ${b(o.exclusiveBytes)}`)
          .join(
            '; ',
          )}${d.orphans.length > TOP_N ? `; … and ${d.orphans.length - TOP_N} more` : ''}. Neither \`docker system df\` nor df names these; stop Docker before removing them.`,
      );
    } else {
      lines.push('Orphaned Docker subvolumes: none.');
    }
    if (d.pendingDeletion.count) {
      lines.push(
        `Pending deletion: ${d.pendingDeletion.count} subvolumes${d.pendingDeletion.bytes !== null ? `, ${b(d.pendingDeletion.bytes)}` : ''} on its way back (${code(`btrfs subvolume sync ${shellQuote(fs.mountpoint)}`)} waits for it).`,
      );
    }
  }
  if (fs.compsize) {
    const c = fs.compsize;
    lines.push(
      `compsize (data root): ${b(c.diskUsage)} on disk for ${b(c.uncompressed)} uncompressed (${c.uncompressed > 0 ? Math.round((c.diskUsage / c.uncompressed) * 100) : 100}%), ${b(c.referenced)} referenced.`,
    );
  }
  return lines;
}

/** Layer ids are 64 hex: 12 say enough, as docker does. */
function short(name: string): string {
  return inline(/^[0-9a-f]{64}/.test(name) ? `${name.slice(0, 12)}${name.endsWith('-init') ? '-init' : ''}` : name);
}
