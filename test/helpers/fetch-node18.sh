#!/usr/bin/env bash
# Prints the path of a Node.js 18.19 binary: the runtime of the host's agents
# container (Debian 12's nodejs is 18.19.0). It is fetched once from the npm
# registry, whose package node-linux-<arch> ships bin/node (no toolchain
# download), into .cache/ of this checkout (git-ignored), and reused after.
# Used by test/helpers/node18.ts and by .ci/run. NODE18_VERSION overrides.
set -euo pipefail
version=${NODE18_VERSION:-18.19.0}
case $(uname -m) in
  x86_64) arch=x64 ;;
  aarch64) arch=arm64 ;;
  *) echo "fetch-node18: no node-linux package for $(uname -m)" >&2; exit 1 ;;
esac
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=$root/.cache/node-$version-linux-$arch
bin=$dir/bin/node
if [ ! -x "$bin" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  # npm checks the tarball against the registry's integrity hash.
  (cd "$tmp" && npm pack "node-linux-$arch@$version" --silent --no-audit --no-fund >/dev/null)
  tar -xzf "$tmp"/node-linux-"$arch"-"$version".tgz -C "$tmp" package/bin/node
  mkdir -p "$dir/bin"
  # Renamed into place: a concurrent fetch never runs a half-written binary.
  mv "$tmp/package/bin/node" "$bin.$$"
  mv -f "$bin.$$" "$bin"
fi
got=$("$bin" --version)
if [ "$got" != "v$version" ]; then
  echo "fetch-node18: $bin says $got, not v$version" >&2
  exit 1
fi
echo "$bin"
