import http from 'node:http';

/** GET from the Engine API directly (not through preflight's own client), parsed JSON. */
export function engineGet(socket: string, urlPath: string): Promise<any> {
  return new Promise((resolve, reject) => {
    http
      .get({ socketPath: socket, path: urlPath, headers: { Host: 'docker' } }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve(JSON.parse(body)));
      })
      .on('error', reject);
  });
}

/** Every object the daemon lists, with the figures a change would move: what a dry run must leave as it was. */
export async function daemonObjects(socket: string) {
  const df = await engineGet(socket, '/v1.41/system/df');
  return {
    images: df.Images.map((i: any) => [i.Id, i.RepoTags, i.Containers, i.Size, i.SharedSize]).sort(),
    containers: df.Containers.map((c: any) => [c.Id, c.Names, c.State, c.SizeRw ?? 0]).sort(),
    volumes: df.Volumes.map((v: any) => [v.Name, v.UsageData.Size, v.UsageData.RefCount]).sort(),
    buildCache: df.BuildCache.map((b: any) => [b.ID, b.Size, b.InUse, b.Shared, b.LastUsedAt, b.UsageCount]).sort(),
  };
}

/** DELETE on the Engine API directly; resolves with the status code and the body's text. */
export function engineDelete(socket: string, urlPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { socketPath: socket, path: urlPath, method: 'DELETE', headers: { Host: 'docker' } },
      (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}
