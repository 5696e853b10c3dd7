#!/usr/bin/env bash
# Build the three application images of deploy/Dockerfile (targets rasa, actions, review), tagged
# $IMAGE_PREFIX-<target>:$IMAGE_TAG (what deploy/compose.yml and deploy/k8s/ run). Train first
# (scripts/train_if_needed.sh): the rasa image bakes in models/*.tar.gz.
#
# Settings: IMAGE_PREFIX [localhost/spine-clinic], IMAGE_TAG [latest], BUILDER [podman; or docker],
# PIP_CA_FILE [unset; a CA bundle for pip behind a TLS-intercepting proxy, given to the build as a
# secret and stored in no image], PYTHON_IMAGE [the Dockerfile's default; e.g. pinned by digest].
set -euo pipefail
cd "$(dirname "$0")/.."
prefix="${IMAGE_PREFIX:-localhost/spine-clinic}"
tag="${IMAGE_TAG:-latest}"
read -r -a builder <<<"${BUILDER:-podman}"
ls models/*.tar.gz >/dev/null 2>&1 || { echo "build_images: no trained model in models/ (scripts/train_if_needed.sh)" >&2; exit 2; }
args=(-f deploy/Dockerfile)
# podman writes OCI images by default, which have no HEALTHCHECK: keep Docker's format.
[[ "${builder[0]}" == *podman ]] && args+=(--format docker)
[ -n "${PIP_CA_FILE:-}" ] && args+=(--secret "id=pip_ca,src=$PIP_CA_FILE")
[ -n "${PYTHON_IMAGE:-}" ] && args+=(--build-arg "PYTHON_IMAGE=$PYTHON_IMAGE")
for target in actions review rasa; do  # each has its own virtualenv stage; the base layers are shared
  echo "build_images: $prefix-$target:$tag"
  "${builder[@]}" build "${args[@]}" --target "$target" -t "$prefix-$target:$tag" .
done
