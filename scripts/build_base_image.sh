#!/usr/bin/env bash
# Local stand-ins for the official base images the deploy files name, for machines that reach
# Debian's package mirror and PyPI but no container registry (this project's CI and test machines).
# Each stand-in is tagged with the official name, so deploy/Dockerfile and deploy/compose.yml are
# built and run exactly as written; where a registry is reachable, skip this script and podman or
# docker pull the real images instead.
#
#   docker.io/library/debian:bookworm-slim     debootstrap --variant=minbase bookworm
#   docker.io/library/python:3.10-slim-bookworm  that + this machine's CPython 3.10 in /usr/local
#   docker.io/library/postgres:15-bookworm     that + Debian's postgresql-15 (deploy/standin/)
#   docker.io/library/redis:7-bookworm         that + Debian's redis-server (deploy/standin/)
#   docker.io/library/nginx:bookworm           that + Debian's nginx (deploy/standin/)
#
# Idempotent: an image whose tag already exists is not rebuilt (FORCE=1 rebuilds all).
# Settings: PODMAN [podman --runtime runc --cgroup-manager=cgroupfs], PYTHON_PREFIX [the newest
# ~/.pyenv/versions/3.10.*, else the prefix of python3.10 on PATH], DEBIAN_MIRROR
# [http://deb.debian.org/debian]. Needs root (debootstrap) the first time.
set -euo pipefail
cd "$(dirname "$0")/.."
read -r -a podman <<<"${PODMAN:-podman --runtime runc --cgroup-manager=cgroupfs}"
build_args=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
DEBIAN=docker.io/library/debian:bookworm-slim
PYTHON=docker.io/library/python:3.10-slim-bookworm

have() { [ "${FORCE:-0}" != 1 ] && "${podman[@]}" image exists "$1"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if have "$DEBIAN"; then
  echo "base: $DEBIAN exists"
else
  command -v debootstrap >/dev/null || { echo "base: debootstrap missing (apt-get install debootstrap)" >&2; exit 2; }
  echo "base: debootstrap bookworm (minbase) from $mirror"
  debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
  rm -rf "$work"/rootfs/var/cache/apt/archives/*.deb "$work"/rootfs/var/lib/apt/lists/*
  tar -C "$work/rootfs" -c . | "${podman[@]}" import \
    --change 'CMD ["bash"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    - "$DEBIAN" >/dev/null
  rm -rf "$work/rootfs"
  echo "base: built $DEBIAN"
fi

if have "$PYTHON"; then
  echo "base: $PYTHON exists"
else
  prefix="${PYTHON_PREFIX:-}"
  if [ -z "$prefix" ]; then
    prefix=$(ls -d "$HOME"/.pyenv/versions/3.10.* 2>/dev/null | sort -V | tail -n 1 || true)
    [ -n "$prefix" ] || prefix=$(python3.10 -c 'import sys; print(sys.prefix)' 2>/dev/null || true)
  fi
  [ -x "$prefix/bin/python3.10" ] || { echo "base: no CPython 3.10 found (set PYTHON_PREFIX)" >&2; exit 2; }
  echo "base: $PYTHON from $prefix"
  mkdir -p "$work/python/usr/local/bin" "$work/python/usr/local/lib" "$work/python/usr/local/include"
  cp -a "$prefix"/lib/libpython3* "$work/python/usr/local/lib/"
  tar -C "$prefix/lib" --exclude='python3.10/test' --exclude='python3.10/site-packages/*' \
    --exclude='__pycache__' --exclude='python3.10/idlelib' --exclude='python3.10/tkinter' -c python3.10 \
    | tar -C "$work/python/usr/local/lib" -x
  mkdir -p "$work/python/usr/local/lib/python3.10/site-packages"
  cp -a "$prefix/include/python3.10" "$work/python/usr/local/include/"
  cp -a "$prefix/bin/python3.10" "$work/python/usr/local/bin/"
  cat >"$work/Containerfile" <<CF
FROM $DEBIAN
ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 PYTHON_VERSION=$("$prefix/bin/python3.10" -c 'import platform; print(platform.python_version())')
# The shared libraries CPython's extension modules link against (ldd of lib-dynload), as in the
# official image, plus certificates and time zones.
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates netbase tzdata libssl3 libsqlite3-0 libffi8 libbz2-1.0 liblzma5 zlib1g \
      libreadline8 libncursesw6 libexpat1 libuuid1 libgdbm6 libnsl2 libtirpc3 libcrypt1 \\
    && rm -rf /var/lib/apt/lists/*
COPY python/ /
RUN ldconfig && ln -s python3.10 /usr/local/bin/python3 && ln -s python3.10 /usr/local/bin/python \\
    && python3 -m ensurepip --default-pip >/dev/null && rm -rf /root/.cache \\
    && ln -sf pip3 /usr/local/bin/pip && python -c 'import ssl, sqlite3, ctypes, lzma, bz2, zoneinfo; zoneinfo.ZoneInfo("Europe/London")'
CMD ["python3"]
CF
  "${podman[@]}" build "${build_args[@]}" -q -t "$PYTHON" -f "$work/Containerfile" "$work" >/dev/null
  echo "base: built $PYTHON"
fi

for name in postgres redis nginx; do
  case $name in
    postgres) tag=docker.io/library/postgres:15-bookworm ;;
    redis) tag=docker.io/library/redis:7-bookworm ;;
    nginx) tag=docker.io/library/nginx:bookworm ;;
  esac
  if have "$tag"; then
    echo "base: $tag exists"
  else
    "${podman[@]}" build "${build_args[@]}" -q -t "$tag" -f "deploy/standin/$name.Containerfile" deploy/standin >/dev/null
    echo "base: built $tag (stand-in)"
  fi
done
