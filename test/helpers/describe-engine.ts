import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describeWith } from './describe-with.js';
import { ENGINE_TOOLS } from './dockerd.js';
import { MODERN_ROOT, modernEngineMissing, type EngineChoice } from './modern-engine.js';

/**
 * describe() for one engine and image store of the matrix, titled with both
 * (`Engine 28.5.2, containerd store`). What the engine needs and the machine
 * lacks skips the block loudly, or fails it under CI (describeWith).
 */
export function describeEngine(choice: EngineChoice, name: string, body: () => void): void {
  const missing = choice.engine === 'newest' ? modernEngineMissing() : [];
  describeWith([...ENGINE_TOOLS, ...missing], `${name} [${engineTitle(choice)}]`, body);
}

/** `Engine 20.10.24, graph-driver store`: read from the binaries' packages, before any daemon starts. */
export function engineTitle(choice: EngineChoice): string {
  const store = choice.store === 'containerd' ? 'containerd store' : 'graph-driver store';
  return `Engine ${engineVersionOf(choice.engine)}, ${store}`;
}

function engineVersionOf(engine: EngineChoice['engine']): string {
  try {
    if (engine === 'debian') {
      // Docker version 20.10.24+dfsg1, build 297e128
      const out = execFileSync('dockerd', ['--version'], { encoding: 'utf8', timeout: 5000 });
      return /version (\d+\.\d+\.\d+)/.exec(out)?.[1] ?? '?';
    }
    const status = readFileSync(path.join(MODERN_ROOT, 'var/lib/dpkg/status'), 'utf8');
    // Package: docker.io … Version: 28.5.2+dfsg4-1
    const entry = status.split('\n\n').find((e) => /^Package: docker\.io$/m.test(e)) ?? '';
    return /^Version: (?:\d+:)?(\d+\.\d+\.\d+)/m.exec(entry)?.[1] ?? '?';
  } catch {
    return engine === 'debian' ? "the machine's own (missing)" : "Debian's newest (not built)";
  }
}
