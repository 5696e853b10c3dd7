#!/usr/bin/env bash
# Known-vulnerability audit of the locked dependencies with pip-audit, in its own virtualenv (its
# dependencies must not disturb Rasa's pins). Advisories that Rasa 3.6's own pins block are listed,
# with the reason, in audit-exceptions.txt ("ID  reason" per line); any other finding fails.
# Needs PyPI's per-release JSON API or OSV; where neither is reachable it fails and says so.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv-audit/bin/pip-audit ]; then
  .venv/bin/python -m venv .venv-audit
  .venv-audit/bin/python -m pip install --quiet 'pip-audit==2.10.1'
fi
ignore=()
while read -r id _; do
  [ -n "$id" ] && [ "${id:0:1}" != "#" ] && ignore+=(--ignore-vuln "$id")
done < audit-exceptions.txt
.venv-audit/bin/pip-audit --requirement requirements-lock.txt --no-deps --disable-pip --strict \
  --progress-spinner off "${ignore[@]}"
