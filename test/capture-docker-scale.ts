// Records a /system/df with well over 1,000 objects from a real sandboxed daemon,
// into test/fixtures/docker/scale-20.10/. Run as root: npx tsx test/capture-docker-scale.ts
import { mkdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { startDockerd } from './helpers/dockerd.js';

function call(socket: string, method: string, path: string, body?: unknown): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { socketPath: socket, path, method, headers: { Host: 'docker', 'Content-Type': 'application/json' } },
      (res) => {
        let out = '';
        res.on('data', (c) => (out += c));
        res.on('end', () =>
          (res.statusCode ?? 500) < 300 ? resolve(out) : reject(new Error(`${path}: ${res.statusCode} ${out}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

async function pool<T>(items: T[], n: number, fn: (t: T) => Promise<unknown>) {
  let i = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (i < items.length) await fn(items[i++]!);
    }),
  );
}

const s = await startDockerd('overlay2', 2048);
try {
  await s.buildImage('pf-base:1');
  for (let t = 0; t < 12; t += 1) await s.docker(['tag', 'pf-base:1', `pf-tag${t}:v${t}`]);
  const volumes = Array.from({ length: 1100 }, (_, i) => `pf-vol-${String(i).padStart(4, '0')}`);
  await pool(volumes, 16, (name) =>
    call(s.socket, 'POST', '/v1.41/volumes/create', { Name: name, Labels: { note: 'x|`y`\n## z' } }),
  );
  const containers = Array.from({ length: 150 }, (_, i) => `pf-ctr-${String(i).padStart(3, '0')}`);
  await pool(containers, 8, (name) =>
    call(s.socket, 'POST', `/v1.41/containers/create?name=${name}`, {
      Image: 'pf-base:1',
      Cmd: ['true'],
      HostConfig: { NetworkMode: 'none' },
    }),
  );
  const df = await call(s.socket, 'GET', '/v1.41/system/df');
  await mkdir('test/fixtures/docker/scale-20.10', { recursive: true });
  await writeFile(
    'test/fixtures/docker/scale-20.10/system-df.json.txt',
    `# captured: curl --unix-socket SOCK http://docker/v1.41/system/df   (docker.io 20.10.24, overlay2; test/capture-docker-scale.ts: 13 tags of one image, 1100 volumes, 150 created containers)\n${df}\n`,
  );
  const parsed = JSON.parse(df);
  console.log(
    `objects: ${parsed.Images.length} images, ${parsed.Containers.length} containers, ${parsed.Volumes.length} volumes, ${parsed.BuildCache.length} cache records`,
  );
} finally {
  await s.stop();
}
