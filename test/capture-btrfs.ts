// Captures real btrfs-progs output (this machine's version) into
// test/fixtures/btrfs/<version>/: a btrfs-driver dockerd with the mixed
// scenario plus three unreferenced 64-hex subvolumes, and a scratch btrfs
// with quotas on (enabled by this capture, never by preflight). Root needed:
//   npx tsx test/capture-btrfs.ts
import { execSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SUBVOLUME_LISTING_SCRIPT } from '../src/probes/btrfs.js';
import { execRunner } from '../src/host/exec.js';
import { startDockerd } from './helpers/dockerd.js';
import { makeLoopFs } from './helpers/loopfs.js';
import { buildMixedScenario } from './helpers/scenarios.js';
import { createOrphanSubvolumes } from './helpers/btrfs.js';

const version = execSync('btrfs --version').toString().trim().split(' ').pop()!;
const out = path.join('test/fixtures/btrfs', version);
await mkdir(out, { recursive: true });
const sh = (cmd: string) => execSync(cmd, { encoding: 'utf8' });
async function save(name: string, command: string, text: string) {
  await writeFile(
    path.join(out, name),
    `# captured: ${command}   (btrfs-progs ${version}, Debian 12, kernel 6.18)\n${text}`,
  );
}

const s = await startDockerd('btrfs', 3072);
try {
  await buildMixedScenario(s);
  const orphans = await createOrphanSubvolumes(s.dataRoot, 3, 40);
  sh('sync');
  const mnt = s.fs.mountpoint;
  await save(
    'usage-b.txt',
    'btrfs filesystem usage -b MNT   (btrfs-driver dockerd, mixed scenario + 3 orphans of 40 MB)',
    sh(`btrfs filesystem usage -b ${mnt}`),
  );
  await save(
    'df-b.txt',
    'btrfs filesystem df -b MNT   (same filesystem, same moment)',
    sh(`btrfs filesystem df -b ${mnt}`),
  );
  await save(
    'df.json.txt',
    'btrfs --format json filesystem df MNT   (same filesystem)',
    sh(`btrfs --format json filesystem df ${mnt}`),
  );
  const listing = await execRunner('sh', ['-c', SUBVOLUME_LISTING_SCRIPT, 'preflight-subvolumes', s.dataRoot], 30_000);
  await save(
    'docker-subvolume-listing.txt',
    `sh -c "$SUBVOLUME_LISTING_SCRIPT" preflight-subvolumes DATA_ROOT   (src/probes/btrfs.ts; orphans: ${orphans.join(' ')})`,
    listing.stdout,
  );
  await save(
    'fi-du-orphans.txt',
    'btrfs filesystem du -s --raw ORPHAN1 ORPHAN2 ORPHAN3',
    sh(`btrfs filesystem du -s --raw ${orphans.map((o) => `${s.dataRoot}/btrfs/subvolumes/${o}`).join(' ')}`),
  );
} finally {
  await s.stop();
}

const fs = await makeLoopFs({ fstype: 'btrfs', sizeMiB: 400 });
try {
  const m = fs.mountpoint;
  sh(`btrfs subvolume create ${m}/sv1 && btrfs subvolume create ${m}/sv2 && btrfs subvolume create ${m}/gone`);
  sh(
    `head -c 20000000 /dev/urandom > ${m}/sv1/rand && cp --reflink=always ${m}/sv1/rand ${m}/sv2/rand-reflink && head -c 5000000 /dev/urandom > ${m}/sv2/own && head -c 5000000 /dev/urandom > ${m}/gone/x && sync`,
  );
  sh(`btrfs quota enable ${m} && btrfs quota rescan -w ${m}`);
  sh(`btrfs subvolume delete ${m}/gone`);
  await save(
    'qgroup-show-re-raw.txt',
    'btrfs qgroup show -re --raw MNT   (quotas on: sv1 20 MB, sv2 reflinks it + 5 MB own, gone deleted)',
    sh(`btrfs qgroup show -re --raw ${m}`),
  );
  await save('subvolume-list.txt', 'btrfs subvolume list MNT   (same filesystem)', sh(`btrfs subvolume list ${m}`));
  await save(
    'subvolume-list-d.txt',
    'btrfs subvolume list -d MNT   (same filesystem, right after deleting "gone")',
    sh(`btrfs subvolume list -d ${m}`),
  );
  await save('compsize-b.txt', 'compsize -b MNT   (btrfs-compsize 1.5, same filesystem)', sh(`compsize -b ${m}`));
  const err = (() => {
    try {
      sh(`btrfs quota disable ${m} && btrfs qgroup show -re --raw ${m}`);
      return '';
    } catch (e) {
      return String((e as { stderr?: string }).stderr ?? '');
    }
  })();
  await save(
    'qgroup-show-quotas-off.stderr.txt',
    'btrfs qgroup show -re --raw MNT 2>&1 >/dev/null   (quotas off)',
    err,
  );
} finally {
  await fs.cleanup();
}
console.log(`captured into ${out}`);
