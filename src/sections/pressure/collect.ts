import { errorMessage } from '../../model/errors.js';
import { attribute, pressureRatio } from '../../model/attribution.js';
import { alertKey, findFindings, tiers } from '../../model/findings.js';
import { summaryRow, type FilesystemRow } from '../../model/filesystems.js';
import { biggestDirectories } from '../../parse/du.js';
import { getBiggestDirs, getLargestFiles } from '../../probes/du.js';
import { deletedOpenReport, heldOn } from '../../model/deleted-open.js';
import { callTimeout } from '../../host/deadline.js';
import { activeAlerts } from '../../model/trend/alerts.js';
import { growingObjects, objectTrends } from '../../model/trend/objects.js';
import { objectFiguresOf } from '../../model/object-figures.js';
import { formatBytes } from '../../text/bytes.js';
import { type Collected, type SectionContext } from '../types.js';
import type { PressureData } from '../../model/pressure.js';

const DU_TIMEOUT_MS = 20_000;
/** The largest files named beside the biggest directories. */
const LARGEST_FILES = 10;

export async function collectPressure(ctx: SectionContext): Promise<Collected<PressureData>> {
  const { filesystem: fsPart, docker: dockerPart, btrfs: btrfsPart } = ctx.measured;
  const filesystems = fsPart?.data?.filesystems ?? [];
  const docker = dockerPart?.data ?? null;
  // No socket and no data root: Docker is not installed here, which is no finding.
  const notInstalled =
    !docker && /^docker: no socket at /.test(dockerPart?.reason ?? '') && fsPart?.data?.docker.source === null;
  const dockerProblem = docker || notInstalled ? null : (dockerPart?.reason ?? 'docker section did not run');
  const row = fsPart?.data ? summaryRow(fsPart.data) : undefined;
  const btrfsFs = btrfsPart?.data?.filesystems ?? [];
  const btrfsOfRow = row ? (btrfsFs.find((b) => b.mountpoint === row.mountpoint) ?? null) : null;
  const dockerOnRow = !!row && row.roles.includes('docker-data-root') && docker?.source === 'api';
  // Deleted files still held open: the pipeline started the scan; placed on the measured filesystems here.
  const scan = await ctx.shared.deletedOpen(ctx.deadline - 100);
  const names = new Map((docker?.df?.containers ?? []).map((c) => [c.id, c.name]));
  const deletedOpen = deletedOpenReport(scan, filesystems, names);
  const held = (r: FilesystemRow) => heldOn(scan.files, r.deviceNumber);
  const placement = (r: FilesystemRow) => ({
    dataRoot: r.roles.includes('docker-data-root') && docker?.source === 'api',
    containerdRoot: r.roles.includes('containerd-root'),
  });
  const attribution =
    row && row.usedBytes !== undefined
      ? attribute(
          row,
          docker,
          btrfsOfRow,
          placement(row),
          notInstalled
            ? 'No Docker here (no socket, no data root): all used bytes are outside Docker.'
            : dockerProblem
              ? `Docker could not be asked (${dockerProblem}): everything used counts as outside Docker.`
              : docker && !dockerOnRow
                ? `Docker's data root (${docker.engine?.rootDir ?? 'unknown'}) is not on ${row.mountpoint} or not visible from here: Docker's bytes are not part of this split.`
                : null,
          held(row),
        )
      : null;

  // containerd's root on a filesystem of its own: its bytes are split there, beside the Disk line's.
  const containerdRow = filesystems.find((f) => f.roles.includes('containerd-root') && f !== row);
  const containerdAttribution =
    containerdRow && containerdRow.usedBytes !== undefined && docker?.containerd
      ? attribute(
          containerdRow,
          docker,
          btrfsFs.find((b) => b.mountpoint === containerdRow.mountpoint) ?? null,
          placement(containerdRow),
          null,
          held(containerdRow),
        )
      : null;
  let outsideDocker: PressureData['outsideDocker'] = null;
  let largestFiles: PressureData['largestFiles'] = null;
  let outsideDockerProblem: string | null = null;
  // du walks the filesystem: only when there is pressure to explain, or when asked.
  const pressed = (row?.usedPct ?? 0) >= tiers({ diskHighPct: ctx.options.diskThresholdPct }).warn;
  if (
    attribution &&
    attribution.sources[0]?.kind === 'outside-docker' &&
    row &&
    !(pressed || ctx.options.scanOutside)
  ) {
    outsideDockerProblem = `not scanned: ${row.usedPct}% used is below the ${tiers({ diskHighPct: ctx.options.diskThresholdPct }).warn}% warning tier (--scan-outside scans anyway)`;
  } else if (attribution && attribution.sources[0]?.kind === 'outside-docker' && row) {
    const dataRoot = fsPart?.data?.docker.path ?? null;
    const timeout = callTimeout(ctx.deadline, DU_TIMEOUT_MS, 300);
    // Both walk the same tree, at once: the directories, and the largest files in them.
    const [dirs, files] = await Promise.allSettled([
      getBiggestDirs(ctx.run, row.mountpoint, dataRoot, timeout),
      getLargestFiles(ctx.run, row.mountpoint, dataRoot, LARGEST_FILES, timeout),
    ]);
    if (dirs.status === 'fulfilled') outsideDocker = biggestDirectories(dirs.value, row.mountpoint);
    else outsideDockerProblem = errorMessage(dirs.reason);
    if (files.status === 'fulfilled') largestFiles = files.value;
    else outsideDockerProblem ??= errorMessage(files.reason);
  }
  // Hysteresis holds what was firing when last looked at (the history only we write).
  const history = await ctx.shared.history(ctx.deadline - 50);
  const previous = new Set(activeAlerts(history.records).map(alertKey));
  const findings = findFindings(
    filesystems,
    attribution,
    btrfsFs,
    dockerProblem,
    { diskHighPct: ctx.options.diskThresholdPct },
    formatBytes,
    previous,
  );
  const objects = objectTrends([
    ...history.records,
    { at: ctx.startedAt.toISOString(), objects: objectFiguresOf(docker) },
  ]);
  return {
    status: 'ok',
    data: {
      attribution,
      containerdAttribution,
      outsideDocker,
      outsideDockerProblem,
      largestFiles,
      deletedOpen,
      pressure: filesystems.map((f) => ({ mountpoint: f.mountpoint, ratio: pressureRatio(f) })),
      findings,
      // The trend section's own rule over the same runs: the verdict names what it names.
      growingObjects: growingObjects(objects, row?.sizeBytes ?? null),
      objectTrends: objects,
      historyKnown: !(history.problem && history.records.length === 0),
    },
  };
}
