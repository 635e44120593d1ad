import { describe, expect, it } from 'vitest';
import { parseDockerHost } from '../../src/parse/docker-host.js';

describe('parseDockerHost', () => {
  it.each([
    [undefined, { kind: 'unix', socketPath: '/var/run/docker.sock' }],
    ['', { kind: 'unix', socketPath: '/var/run/docker.sock' }],
    ['unix:///run/user/1000/docker.sock', { kind: 'unix', socketPath: '/run/user/1000/docker.sock' }],
    ['tcp://127.0.0.1:2375', { kind: 'tcp', host: '127.0.0.1', port: 2375 }],
    ['tcp://[::1]:2376', { kind: 'tcp', host: '::1', port: 2376 }],
    ['tcp://dockerhost', { kind: 'tcp', host: 'dockerhost', port: 2375 }],
    ['ssh://me@host', { kind: 'unsupported' }],
  ])('%s', (value, expected) => {
    expect(parseDockerHost(value)).toMatchObject(expected);
  });
});
