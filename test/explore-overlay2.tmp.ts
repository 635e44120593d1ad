import { execSync } from 'node:child_process';
import { startDockerd } from './helpers/dockerd.js';
import { buildMixedScenario } from './helpers/scenarios.js';

const s = await startDockerd('overlay2', 3072);
const sh = (c: string) => { try { return execSync(c, { encoding: 'utf8', shell: '/bin/bash' }); } catch (e: any) { return `ERR ${e.stderr}`; } };
try {
  await buildMixedScenario(s);
  const r = s.dataRoot;
  console.log('DATAROOT', r);
  console.log('== ls overlay2'); console.log(sh(`ls -la ${r}/overlay2 | head -100`));
  console.log('== overlay2 names by shape'); console.log(sh(`ls ${r}/overlay2 | sed -E 's/^[0-9a-f]{64}$/HEX64/; s/^[0-9a-f]{64}-init$/HEX64-init/; s/^[0-9a-z]{25}$/B36x25/' | sort | uniq -c`));
  console.log('== ls l (first)'); console.log(sh(`ls -la ${r}/overlay2/l | head -5`));
  console.log('== cache-id'); console.log(sh(`for f in ${r}/image/overlay2/layerdb/sha256/*/cache-id; do echo "$(cat $f)  ${'$'}{f#${r}/}"; done`));
  console.log('== mounts'); console.log(sh(`for f in ${r}/image/overlay2/layerdb/mounts/*/*-id; do echo "$(cat $f)  ${'$'}{f#${r}/}"; done`));
  console.log('== layerdb tree'); console.log(sh(`ls -la ${r}/image/overlay2/layerdb ${r}/image/overlay2/layerdb/tmp 2>&1`));
  console.log('== buildkit'); console.log(sh(`ls -laR ${r}/buildkit | head -40`));
  console.log('== strings in snapshots.db'); console.log(sh(`strings ${r}/buildkit/snapshots.db | sort -u | head -80`));
  console.log('== inspect containers'); console.log(sh(`/usr/bin/docker -H ${s.host} ps -aq | xargs /usr/bin/docker -H ${s.host} inspect --format '{{.Name}} {{.State.Status}} {{json .GraphDriver.Data}}'`));
  console.log('== inspect images'); console.log(sh(`/usr/bin/docker -H ${s.host} images -aq | sort -u | xargs /usr/bin/docker -H ${s.host} image inspect --format '{{.Id}} {{.RepoTags}} {{json .GraphDriver.Data}}'`));
  console.log('== buildx du'); console.log(sh(`/usr/bin/docker -H ${s.host} builder du --verbose 2>&1 | head -80`));
  console.log('== stat dirs'); console.log(sh(`cd ${r}/overlay2 && stat -c '%y %n' * | sort`));
  console.log('== contents of a b36 dir'); console.log(sh(`cd ${r}/overlay2 && for d in $(ls | grep -E '^[0-9a-z]{25}$' | head -3); do echo $d; ls -la $d; cat $d/link; echo; cat $d/lower 2>/dev/null; echo; done`));
} finally {
  await s.stop();
}
