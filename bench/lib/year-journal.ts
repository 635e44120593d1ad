// A year of history (365 day files of our own, 72 records a day = 26,280,
// beside a shared day journal full of the LLM's prose), as a steady host
// writes it: nothing fires, so there are no change lines.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { formatRecord, HISTORY_DIR, type HistoryRecord } from '../../src/model/history.js';
import { OBJECT_KINDS, OBJECTS_PER_KIND, type ObjectFigures } from '../../src/model/history-objects.js';

/** A full set of per-object figures, as a busy host's run keeps them: every kind, 8 objects each. */
function fullObjects(at: number): ObjectFigures {
  const GiB = 1024 ** 3;
  return Object.fromEntries(
    OBJECT_KINDS.map((kind) => [
      kind,
      Array.from({ length: OBJECTS_PER_KIND }, (_, i): [string, number] => [
        `${kind}-${'project_service'.slice(0, 8 + i)}-${i}`,
        Math.round((GiB / (i + 1)) * (1 + (at % 86_400_000) / 86_400_000 / 10)),
      ]),
    ]),
  );
}

/** Write a year of history into a new temporary journal root; returns it and the record count. */
export function writeYearOfHistory(): { root: string; entries: number } {
  const root = mkdtempSync(path.join(tmpdir(), 'pf-bench-journal-'));
  const GiB = 1024 ** 3;
  const now = Date.now();
  let entries = 0;
  mkdirSync(path.join(root, HISTORY_DIR), { mode: 0o700 });
  for (let day = 365; day >= 0; day -= 1) {
    const start = now - day * 86_400_000;
    const dayStart = start - (start % 86_400_000);
    const parts: string[] = [];
    const prose: string[] = [];
    for (let i = 0; i < 72; i += 1) {
      const at = dayStart + i * 20 * 60_000;
      if (at > now) break;
      const used = 50 * GiB + ((now - at) / -86_400_000) * GiB + 100 * GiB;
      const usedBytes = Math.round(used);
      const e: HistoryRecord = {
        v: 2,
        at: new Date(at).toISOString(),
        id: `bench-${at}`,
        host: 'bench',
        summaryMount: '/',
        dockerRoot: '/var/lib/docker',
        observed: { assessed: true, filesystems: ['/'], looked: ['/'], btrfs: [], dockerSizes: true },
        filesystems: [
          {
            mountpoint: '/',
            usedBytes,
            sizeBytes: 500 * GiB,
            availBytes: 500 * GiB - usedBytes,
            usedPct: Math.ceil((usedBytes / (500 * GiB)) * 100),
            inodesUsedPct: 3,
          },
        ],
        sources: {
          images: 20 * GiB,
          'build-cache': 5 * GiB,
          'container-logs': 3 * GiB,
          'outside-docker': Math.round(used - 28 * GiB),
        },
        driver: 'overlay2',
        counts: { images: 120, containers: 40, volumes: 30, buildCache: 400 },
        churn: [{ repository: 'app', builds24h: 12, danglingVersions: 11, danglingBytes: 8 * GiB }],
        // Steady state: nothing fires, so a run writes no change lines to the day journal (they are rare).
        fired: [],
        remediation: [],
        escalations: [],
        imagesInUse: ['sha256:' + 'a'.repeat(64), 'sha256:' + 'b'.repeat(64)],
        objects: fullObjects(at),
      };
      parts.push(formatRecord(e));
      if (i % 6 === 0)
        prose.push(
          `\n## Supervisor run — ${new Date(at).toISOString().slice(11, 16)} UTC\n- checked disk, nothing to prune\n- note: build cache steady\n`,
        );
      entries += 1;
    }
    const name = new Date(dayStart).toISOString().slice(0, 10);
    writeFileSync(path.join(root, HISTORY_DIR, `${name}.jsonl`), parts.join(''));
    writeFileSync(path.join(root, `${name}.md`), prose.join(''));
  }
  return { root, entries };
}
