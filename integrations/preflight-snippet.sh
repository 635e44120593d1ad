# ── Storage (storage-preflight) ──────────────────────────────────────────
# `preflight host install` places these lines inside the final `if … fi` of
# supervisor/preflight.sh (the host also sources that script: its final `if`
# is what runs only as a program), with _sp_dir pointing at this checkout. It
# appends storage-preflight's sections (## Storage Pressure, ## Remediation
# Plan, ## Filesystem, …), which the storage recipes (integrations/recipes.yaml)
# read. The host captures this script with 2>&1 under set -euo pipefail, so:
# the tool's stderr goes to a log, never into the prompt; no failure stops
# this script; and a missing, failing or hung preflight prints a stand-in
# section whose `Disk pressure: unknown` fires storage-preflight-incomplete (a blind check
# must not read as a healthy disk).
#   STORAGE_PREFLIGHT_DIR     the checkout (default /opt/storage-preflight)
#   STORAGE_PREFLIGHT_BUDGET  seconds the run may take (default 60)
#   STORAGE_PREFLIGHT_LOG     where its stderr goes (default: discarded)
# PREFLIGHT_CONFIG, OPS_JOURNAL_ROOT, OPS_VAULT_ROOT and OPS_REPO_ROOT pass
# through from the environment: with --escalate, what a person must do is
# filed (and kept current) as one vault item per condition by the tool itself.
_sp_dir="${STORAGE_PREFLIGHT_DIR:-/opt/storage-preflight}"
_sp_budget="${STORAGE_PREFLIGHT_BUDGET:-60}"
case "$_sp_budget" in '' | *[!0-9]*) _sp_budget=60 ;; esac
_sp_log="${STORAGE_PREFLIGHT_LOG:-/dev/null}"
# The log is opened after the cd below: a relative path must not move with it.
case "$_sp_log" in /*) ;; *) _sp_log="$PWD/$_sp_log" ;; esac
# An unwritable log must not become a shell error on stderr: fall back to discarding.
{ : >>"$_sp_log"; } 2>/dev/null || _sp_log=/dev/null
# The budget bounds the run; timeout is the backstop should it ever not.
_sp_timeout=()
command -v timeout >/dev/null 2>&1 && _sp_timeout=(timeout -k 5 "$((_sp_budget + 10))")
_sp_rc=0
_sp_out=""
if [ -x "$_sp_dir/preflight" ]; then
  # From the checkout: its ./journal is the history when OPS_JOURNAL_ROOT is unset.
  _sp_out=$(cd -- "$_sp_dir" 2>/dev/null && ${_sp_timeout[@]+"${_sp_timeout[@]}"} ./preflight --budget "$_sp_budget" --escalate </dev/null 2>>"$_sp_log") || _sp_rc=$?
else
  _sp_rc=127
fi
if [ "$_sp_rc" -eq 0 ] && [ -n "$_sp_out" ]; then
  printf '%s\n\n' "$_sp_out"
else
  echo "## Storage Pressure"
  echo "storage-preflight gave no report (exit ${_sp_rc}: 127 not installed, 124 timed out); its stderr: ${STORAGE_PREFLIGHT_LOG:-discarded (set STORAGE_PREFLIGHT_LOG to keep it)}."
  echo "Disk pressure: unknown"
  echo ""
fi
# The host's script is also sourced: leave none of our names behind.
unset _sp_dir _sp_budget _sp_log _sp_timeout _sp_rc _sp_out
