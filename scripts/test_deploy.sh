#!/usr/bin/env bash
# `make test-deploy`: build the container images and run the Compose stack's smoke test
# (tests/deploy/): patient conversation with an emergency through the public proxy, the outside-in
# probe, the staff review app seeing it, nothing but the patient channel public; torn down after.
#
# Installs what it needs when missing: Debian's podman, runc and debootstrap (apt-get, as root),
# podman-compose in .venv-deploy (tests/deploy/requirements.txt), the local stand-ins of the
# official base images (scripts/build_base_image.sh; skipped where the tags exist, e.g. pulled).
# Podman runs with tests/deploy/containers.conf (runc, cgroupfs, ulimits) unless CONTAINERS_CONF is set.
# PIP_CA_FILE: a CA bundle for pip inside the build (default: the system bundle when PIP_CERT or
# SSL_CERT_FILE names one, as behind a TLS-intercepting proxy). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

missing=()
for tool in podman runc debootstrap; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { echo "test-deploy: missing ${missing[*]}; run: sudo apt-get install ${missing[*]}" >&2; exit 2; }
  echo "test-deploy: installing Debian packages: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}" >/dev/null
fi
if [ ! -x .venv-deploy/bin/podman-compose ]; then
  .venv/bin/python -m venv .venv-deploy
  .venv-deploy/bin/python -m pip install --quiet -r tests/deploy/requirements.txt
fi
export CONTAINERS_CONF="${CONTAINERS_CONF:-$PWD/tests/deploy/containers.conf}"
export PODMAN_COMPOSE="$PWD/.venv-deploy/bin/podman-compose"
if [ -z "${PIP_CA_FILE:-}" ] && [ -s "${PIP_CERT:-${SSL_CERT_FILE:-/nonexistent}}" ]; then
  export PIP_CA_FILE="${PIP_CERT:-$SSL_CERT_FILE}"
fi

PODMAN="podman" scripts/build_base_image.sh
scripts/train_if_needed.sh
# One build at a time per machine (side-by-side runs share the image store and the tags).
(flock 9; deploy/build_images.sh) 9>"${TMPDIR:-/tmp}/spine-clinic-build.lock"
podman images --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep 'spine-clinic-' || true

RASA_TELEMETRY_ENABLED=false .venv/bin/python -m pytest tests/deploy -q -p no:cacheprovider "$@"
echo "test-deploy: passed in $(( $(date +%s) - start )) s"
