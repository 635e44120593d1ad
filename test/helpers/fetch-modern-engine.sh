#!/usr/bin/env bash
# Prints the path of a Debian root holding Debian's newest Docker Engine
# (the unstable suite's docker.io: 28.5.2, API 1.51, containerd 2.x, buildx),
# built once with debootstrap into .cache/ of this checkout (git-ignored) and
# reused after. Tests start its dockerd and containerd through chroot on this
# kernel (test/helpers/modern-engine.ts); .ci/run calls this script first.
# MODERN_ENGINE_SUITE overrides the suite (trixie: 26.1.5).
set -euo pipefail
suite=${MODERN_ENGINE_SUITE:-sid}
mirror=${MODERN_ENGINE_MIRROR:-http://deb.debian.org/debian}
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=$root/.cache/engine-$suite
stamp=$dir/.complete
if [ ! -e "$stamp" ]; then
  command -v debootstrap >/dev/null || { echo "fetch-modern-engine: debootstrap is missing (apt-get install debootstrap)" >&2; exit 1; }
  # A half-built root from an interrupted run is started over.
  if [ -d "$dir" ]; then
    grep -q " $dir/" /proc/self/mountinfo && { echo "fetch-modern-engine: $dir has mounts; stop the engines using it" >&2; exit 1; }
    rm -rf "$dir"
  fi
  tmp=$dir.$$
  rm -rf "$tmp"
  trap 'umount -R "$tmp/proc" "$tmp/sys" "$tmp/dev" 2>/dev/null || true; rm -rf "$tmp"' EXIT
  debootstrap --variant=minbase "$suite" "$tmp" "$mirror" >/dev/null
  # No package may start a service inside the root while it installs.
  printf '#!/bin/sh\nexit 101\n' > "$tmp/usr/sbin/policy-rc.d"
  chmod 755 "$tmp/usr/sbin/policy-rc.d"
  mount -t proc proc "$tmp/proc"
  # The unstable suite's Release file may be past its Valid-Until date.
  chroot "$tmp" sh -c 'export DEBIAN_FRONTEND=noninteractive
    apt-get -qq -o Acquire::Check-Valid-Until=false update &&
    apt-get -qq install -y --no-install-recommends docker.io docker-cli containerd docker-buildx runc ca-certificates iptables >/dev/null &&
    apt-get clean'
  umount "$tmp/proc"
  touch "$tmp/.complete"
  mv "$tmp" "$dir"
  trap - EXIT
fi
echo "$dir"
