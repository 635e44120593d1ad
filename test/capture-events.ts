// Captures GET /events (containers' start events between two instants) from
// both engines of the matrix, into test/fixtures/docker/events/. Run as root:
//   flock /tmp/pf-engine.lock npx tsx test/capture-events.ts
import http from 'node:http';
import { mkdir, writeFile } from 'node:fs/promises';
import { startDockerd } from './helpers/dockerd.js';

/** The raw answer: /events with `until` ends the stream, one JSON object a line. */
function rawGet(socket: string, urlPath: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ socketPath: socket, path: urlPath, headers: { Host: 'docker' } }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

await mkdir('test/fixtures/docker/events', { recursive: true });
for (const engine of ['debian', 'newest'] as const) {
  const s = await startDockerd('overlay2', 1024, { engine });
  try {
    await s.buildImage('pf-base:1');
    await s.buildImage('pf-job:1', ['COPY job /job'], { job: 'echo job\n' });
    const since = Math.floor(Date.now() / 1000) - 1;
    // A short job that removes itself, one kept, and one started by its image id.
    await s.docker(['run', '--rm', '--network', 'none', 'pf-job:1', 'true']);
    await s.docker(['run', '--network', 'none', '--name', 'pf-kept', 'pf-base:1', 'true']);
    const id = (await s.docker(['image', 'inspect', '-f', '{{.Id}}', 'pf-base:1'])).trim();
    await s.docker(['run', '--rm', '--network', 'none', id, 'true']);
    const until = Math.floor(Date.now() / 1000) + 1;
    const filters = encodeURIComponent(JSON.stringify({ type: ['container'], event: ['start'] }));
    const path = `/events?since=${since}&until=${until}&filters=${filters}`;
    const body = await rawGet(s.socket, path);
    const header = `# captured: curl --unix-socket SOCK 'http://docker${path.replace(/since=\d+&until=\d+/, 'since=T0&until=T1')}'   (${s.label}; docker run --rm pf-job:1, docker run --name pf-kept pf-base:1, docker run --rm <pf-base:1's id>; test/capture-events.ts)\n# image ids: pf-base:1 ${id}\n`;
    await writeFile(`test/fixtures/docker/events/${engine === 'debian' ? '20.10' : '28.5'}.ndjson.txt`, header + body);
  } finally {
    await s.stop();
  }
}
