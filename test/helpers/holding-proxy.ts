import http from 'node:http';
import { once } from 'node:events';
import { rm } from 'node:fs/promises';

/**
 * A unix-socket proxy in front of a real dockerd that makes a deletion (a
 * DELETE, or a POST /build/prune) go unanswered, so the client's timeout
 * fires whatever the machine's load:
 * - 'hold': the call reaches the daemon, which does it; its answer is
 *   never passed on. Calls after it wait until the daemon has answered it.
 * - 'drop': the call never reaches the daemon and is never answered.
 * Every other call is passed through.
 */
export async function holdingProxy(
  upstream: string,
  socket: string,
  mode: 'hold' | 'drop',
): Promise<{ deletes: number; close(): Promise<void> }> {
  let behind: Promise<void> = Promise.resolve();
  const state = { deletes: 0 };
  const forward = (req: http.IncomingMessage) =>
    new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
      const up = http.request(
        { socketPath: upstream, path: req.url, method: req.method, headers: req.headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }),
          );
        },
      );
      up.on('error', reject);
      req.pipe(up);
    });
  const server = http.createServer((req, res) => {
    res.on('error', () => undefined);
    if (req.method === 'DELETE' || (req.method === 'POST' && /\/build\/prune(\?|$)/.test(req.url ?? ''))) {
      state.deletes += 1;
      if (mode === 'hold')
        behind = forward(req).then(
          () => undefined,
          () => undefined,
        );
      return; // never answered
    }
    void behind
      .then(() => forward(req))
      .then(
        (a) => {
          res.writeHead(a.status, a.headers);
          res.end(a.body);
        },
        (err: Error) => {
          res.writeHead(502);
          res.end(err.message);
        },
      );
  });
  await rm(socket, { force: true });
  server.listen(socket);
  await once(server, 'listening');
  return {
    get deletes() {
      return state.deletes;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(() => r(undefined)));
      await rm(socket, { force: true });
    },
  };
}
