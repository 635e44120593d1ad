#!/usr/bin/env bash
# Supervisor `direct` action for the storage findings: run the clean-up plan's
# safe steps and print what they freed. The host calls it as
#   bash integrations/actions/storage-cleanup.sh PROJECT_TOML EVIDENCE
# under `set -euo pipefail` with stderr folded into the prompt: so this script
# prints only to stdout and exits 0 whatever the clean-up did, except when
# preflight itself is missing (a broken install the host should see).
set -u

# The repository root is two levels above this script, wherever the host runs it from.
root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." 2>/dev/null && pwd) || root=
if [ -z "$root" ] || [ ! -x "$root/preflight" ]; then
  echo "storage-cleanup: no executable preflight in ${root:-the repository root}; nothing was applied."
  exit 1
fi

# No temporary files: this runs when the disk is full. preflight writes nothing
# on stderr in a normal run, and one line (exit 2, 4 or 5) when it refuses.
# --escalate: what the safe tier could not fix reaches a person as one vault item (updated, not refiled).
out=$(cd -- "$root" && ./preflight remediate --apply --escalate --budget 120 --format markdown 2>&1)
rc=$?

if [ "$rc" -eq 0 ]; then
  section=$(printf '%s\n' "$out" | awk '/^## (Remediation Applied|Escalation)$/{on=1; print; next} /^## /{on=0} on{print}')
  if [ -n "$section" ]; then
    printf '%s\n' "$section"
  else
    echo "storage-cleanup: preflight printed no Remediation Applied section."
  fi
elif [ "$rc" -eq 4 ] || [ "$rc" -eq 5 ]; then
  # 4: another apply holds the apply lock; 5: another run holds the run lock. Nothing was done.
  echo "storage-cleanup: skipped: $(printf '%s\n' "$out" | tail -n 1)"
else
  echo "storage-cleanup: preflight exited $rc: $(printf '%s\n' "$out" | tail -n 1)"
fi
exit 0
