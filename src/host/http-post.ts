import http from 'node:http';

/*
 * One POST to a notification target under a deadline. No redirect is
 * followed: a webhook that answers 3xx is misconfigured (or moved), and
 * following it would send the message, and a token in the URL, to a host the
 * operator did not name. Nothing returned names the URL (its path is a secret).
 */

export type PostOutcome = { ok: true; status: number } | { ok: false; reason: string };

/** Most of an answer read: its status is what counts. */
const MAX_ANSWER_BYTES = 64 * 1024;

export async function postOnce(
  url: string,
  contentType: string,
  body: string,
  timeoutMs: number,
): Promise<PostOutcome> {
  // Imported here: TLS costs every run's start ~13 ms, and only a notification uses it.
  const lib = new URL(url).protocol === 'https:' ? (await import('node:https')).default : http;
  return new Promise((resolve) => {
    let settled = false;
    const done = (o: PostOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(o);
    };
    const u = new URL(url);
    const payload = Buffer.from(body, 'utf8');
    const req = lib.request(
      u,
      {
        method: 'POST',
        headers: { 'content-type': contentType, 'content-length': payload.length, 'user-agent': 'storage-preflight' },
      },
      (res) => {
        const status = res.statusCode ?? 0;
        let read = 0;
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > MAX_ANSWER_BYTES) res.destroy();
        });
        res.on('error', () => undefined);
        // The status decides; the body is drained (or cut) so the socket closes.
        res.on('close', () => {
          if (status >= 200 && status < 300) done({ ok: true, status });
          else if (status >= 300 && status < 400)
            done({ ok: false, reason: `redirected (HTTP ${status}, not followed)` });
          else done({ ok: false, reason: `HTTP ${status}` });
        });
        res.resume();
      },
    );
    // The whole exchange, not just an idle socket, must end by the deadline.
    const timer = setTimeout(() => {
      done({ ok: false, reason: `no answer within ${(timeoutMs / 1000).toFixed(1)} s` });
      req.destroy();
    }, timeoutMs);
    // Only the error's code: its message may quote the host and path.
    req.on('error', (err: NodeJS.ErrnoException) => done({ ok: false, reason: err.code ?? 'connection failed' }));
    req.end(payload);
  });
}
