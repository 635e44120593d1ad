import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The checkout or install the running code came from: the first folder above
 * this module holding package.json (dist/ bundles sit one level down, the
 * sources in src/cli/ two).
 */
export function installRoot(): string {
  let dir = new URL('..', import.meta.url);
  for (let i = 0; i < 3 && !existsSync(new URL('package.json', dir)); i += 1) dir = new URL('..', dir);
  return fileURLToPath(dir);
}

/** The installed package's version, from the install root's package.json. */
export function packageVersion(): string {
  const pkg = JSON.parse(
    readFileSync(new URL('package.json', `file://${installRoot().replace(/\/?$/, '/')}`), 'utf8'),
  ) as { version: string };
  return pkg.version;
}
