#!/usr/bin/env bash
# Known-vulnerability audit of the locked dependencies with pip-audit, in its own virtualenv (its
# dependencies must not disturb Rasa's pins). Advisories that Rasa 3.6's own pins block are listed,
# with the reason, in audit-exceptions.txt ("ID  reason" per line); any other finding fails.
# Needs PyPI's per-release JSON API or OSV; where neither is reachable it fails and says so.
set -euo pipefail
cd "$(dirname "$0")/.."
# --if-reachable (what `make test` uses): when no vulnerability database answers, say so loudly and
# do not fail; where one answers, any finding not in audit-exceptions.txt fails the build.
if [ "${1:-}" = "--if-reachable" ]; then
  if ! curl -sf -m 10 -o /dev/null https://pypi.org/pypi/pip/24.0/json \
     && ! curl -sf -m 10 -o /dev/null -X POST -d '{"package":{"name":"pip","ecosystem":"PyPI"},"version":"24.0"}' https://api.osv.dev/v1/query; then
    echo "audit: NOT RUN - neither PyPI's per-release JSON API nor OSV is reachable from here; run 'make audit' where one is"
    exit 0
  fi
fi
if [ ! -x .venv-audit/bin/pip-audit ]; then
  .venv/bin/python -m venv .venv-audit
  .venv-audit/bin/python -m pip install --quiet 'pip-audit==2.10.1'
fi
ignore=()
while read -r id _; do
  [ -n "$id" ] && [ "${id:0:1}" != "#" ] && ignore+=(--ignore-vuln "$id")
done < audit-exceptions.txt
service=pypi
curl -sf -m 10 -o /dev/null https://pypi.org/pypi/pip/24.0/json || service=osv
.venv-audit/bin/pip-audit --requirement requirements-lock.txt --no-deps --disable-pip --strict \
  --vulnerability-service "$service" --progress-spinner off "${ignore[@]}"
