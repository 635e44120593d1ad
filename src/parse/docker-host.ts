/** Where the Docker Engine API listens, from DOCKER_HOST (docker CLI semantics). */
export type DockerEndpoint =
  | { kind: 'unix'; socketPath: string; label: string }
  | { kind: 'tcp'; host: string; port: number; label: string }
  | { kind: 'unsupported'; label: string; reason: string };

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';

/**
 * `unix:///run/user/1000/docker.sock`, `tcp://127.0.0.1:2375`, or unset.
 * ssh:// and npipe:// need the CLI; TLS (DOCKER_TLS_VERIFY) is not spoken here.
 */
export function parseDockerHost(value: string | undefined): DockerEndpoint {
  const raw = (value ?? '').trim();
  if (raw === '') return unix(DEFAULT_DOCKER_SOCKET);
  if (raw.startsWith('unix://')) return unix(raw.slice('unix://'.length) || DEFAULT_DOCKER_SOCKET);
  if (raw.startsWith('/')) return unix(raw);
  const tcp = /^tcp:\/\/(\[[^\]]+\]|[^:/]+)(?::(\d+))?\/?$/.exec(raw);
  if (tcp) {
    const host = tcp[1]!.replace(/^\[|\]$/g, '');
    const port = Number(tcp[2] ?? 2375);
    return { kind: 'tcp', host, port, label: raw };
  }
  return { kind: 'unsupported', label: raw, reason: `DOCKER_HOST=${raw} is not a unix:// or tcp:// address` };
}

function unix(socketPath: string): DockerEndpoint {
  return { kind: 'unix', socketPath, label: socketPath };
}
