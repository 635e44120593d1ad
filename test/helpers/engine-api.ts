import http from 'node:http';

/** GET from the Engine API directly (not through preflight's own client), parsed JSON. */
export function engineGet(socket: string, urlPath: string): Promise<any> {
  return new Promise((resolve, reject) => {
    http.get({ socketPath: socket, path: urlPath, headers: { Host: 'docker' } }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve(JSON.parse(body)));
    }).on('error', reject);
  });
}
