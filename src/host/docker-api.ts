import http from 'node:http';
import { TimeoutError, TooLargeError, UnavailableError } from '../model/errors.js';
import type { DockerEndpoint } from '../parse/docker-host.js';

/**
 * The most of one answer we hold: a 545 MB /system/df overran Node's string
 * limit (~512 MiB) and crashed the run, and peak memory must stay modest.
 */
export const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/**
 * GET a Docker Engine API path and parse its JSON, within `timeoutMs`.
 * Failures become one-line UnavailableError reasons an operator can act on,
 * TimeoutError when the daemon accepted and never answered, or TooLargeError
 * past MAX_RESPONSE_BYTES (the request is destroyed: we stop reading at once).
 */
export async function dockerGet(endpoint: DockerEndpoint, path: string, timeoutMs: number): Promise<unknown> {
  return (await dockerGetAnswer(endpoint, path, timeoutMs)).json;
}

/** dockerGet, with the daemon's API version from the answer's headers (saves a GET /version first). */
export async function dockerGetAnswer(
  endpoint: DockerEndpoint,
  path: string,
  timeoutMs: number,
): Promise<DockerAnswer> {
  const res = await dockerRequest(endpoint, 'GET', path, timeoutMs);
  if (res.status >= 400)
    throw new UnavailableError(`docker: ${withoutVersion(path)} answered HTTP ${res.status}: ${res.message}`);
  if (res.json === undefined) throw new UnavailableError(`docker: ${withoutVersion(path)} answered with invalid JSON`);
  return res;
}

/** An answer of any status: the caller decides what 404 or 409 means (a refusal is data, not a failure). */
export interface DockerAnswer {
  status: number;
  /** The parsed body; undefined when empty or not JSON (DELETE /containers answers 204 with no body). */
  json: unknown;
  /** The daemon's `message` for an error status, else the start of the body. */
  message: string;
  /** The `Api-Version` header every Engine API answer carries (sample: `1.41`); null without it. */
  apiVersion: string | null;
  /** The body as text: /events answers one JSON object a line, which is no JSON document. */
  body: string;
}

/**
 * One Engine API call (GET, DELETE, POST without a body) within `timeoutMs`,
 * with dockerGet's connection, deadline and size handling. Only a call that
 * got no answer throws (UnavailableError, TimeoutError, TooLargeError).
 */
export function dockerRequest(
  endpoint: DockerEndpoint,
  method: 'GET' | 'DELETE' | 'POST',
  path: string,
  timeoutMs: number,
): Promise<DockerAnswer> {
  if (endpoint.kind === 'unsupported') return Promise.reject(new UnavailableError(endpoint.reason));
  return new Promise((resolve, reject) => {
    const target =
      endpoint.kind === 'unix' ? { socketPath: endpoint.socketPath } : { host: endpoint.host, port: endpoint.port };
    // An empty POST says so: without a length Node would send it chunked.
    const headers = method === 'GET' ? { Host: 'docker' } : { Host: 'docker', 'Content-Length': '0' };
    // No TLS here: an empty servername spares the agent's IP check of the Host header (a ~8 ms regex compile a run).
    const options: http.RequestOptions & { servername: string } = { ...target, path, method, headers, servername: '' };
    const req = http.request(options, (res) => {
      let chunks: Buffer[] = [];
      let size = 0;
      const tooLarge = () => {
        clearTimeout(timer);
        chunks = [];
        req.destroy();
        reject(new TooLargeError(`docker: ${withoutVersion(path)}`, MAX_RESPONSE_BYTES));
      };
      if (Number(res.headers['content-length']) > MAX_RESPONSE_BYTES) {
        tooLarge();
        return;
      }
      res.on('data', (c: Buffer) => {
        if (size > MAX_RESPONSE_BYTES) return;
        size += c.length;
        if (size > MAX_RESPONSE_BYTES) tooLarge();
        else chunks.push(c);
      });
      res.on('error', (err) => reject(connectionError(endpoint, err)));
      res.on('end', () => {
        clearTimeout(timer);
        const body = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = body === '' ? undefined : JSON.parse(body);
        } catch {
          json = undefined;
        }
        const header = res.headers['api-version'];
        const apiVersion = typeof header === 'string' && /^\d+\.\d+$/.test(header) ? header : null;
        resolve({ status: res.statusCode ?? 0, json, message: apiMessage(json, body), apiVersion, body });
      });
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new TimeoutError(`docker ${method === 'GET' ? '' : `${method} `}${path}`, timeoutMs));
    }, timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(connectionError(endpoint, err));
    });
    req.end();
  });
}

/** `/v1.41/system/df?verbose=1` → `/system/df`: the version and flags say nothing to the reader. */
function withoutVersion(path: string): string {
  return path.replace(/^\/v\d+\.\d+\//, '/').replace(/\?.*/, '');
}

/** From the body already parsed: a second JSON.parse of a big /system/df answer cost a run ~10 ms. */
function apiMessage(json: unknown, body: string): string {
  const msg = (json as { message?: unknown } | null | undefined)?.message;
  return typeof msg === 'string' ? msg : body.slice(0, 200);
}

function connectionError(endpoint: DockerEndpoint, err: unknown): Error {
  if (err instanceof TimeoutError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  const where = endpoint.kind === 'unix' ? endpoint.socketPath : endpoint.label;
  switch (code) {
    case 'ENOENT':
      return new UnavailableError(`docker: no socket at ${where}`);
    case 'EACCES':
      return new UnavailableError(`docker: permission denied on ${where} (run as root or in the docker group)`);
    case 'ECONNREFUSED':
      return new UnavailableError(`docker: connection refused at ${where} (daemon not running?)`);
    case 'ENOTSOCK':
      return new UnavailableError(`docker: ${where} is not a socket`);
    default:
      return new UnavailableError(`docker: cannot reach ${where}: ${(err as Error).message}`);
  }
}
