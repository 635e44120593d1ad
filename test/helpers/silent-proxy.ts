import http from 'node:http';
import { once } from 'node:events';

/**
 * A unix-socket proxy in front of a real dockerd that never answers the
 * calls `silent` picks (they do not reach the daemon), and passes every
 * other call through: a daemon whose one call hangs, whatever the load.
 */
export async function silentProxy(
  upstream: string,
  socket: string,
  silent: (req: http.IncomingMessage) => boolean,
): Promise<{ silenced: string[]; close(): Promise<void> }> {
  const silenced: string[] = [];
  const server = http.createServer((req, res) => {
    if (silent(req)) {
      silenced.push(`${req.method} ${req.url}`);
      return;
    }
    const up = http.request(
      { socketPath: upstream, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.listen(socket);
  await once(server, 'listening');
  return {
    silenced,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
