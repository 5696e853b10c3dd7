#!/usr/bin/env bash
# Train into models/ only when the training inputs changed since the last model was built.
# Inputs: config, domain, training data, the custom NLU component code and word lists, and the facts
# file (the spelling corrector's vocabulary is built from it at training time). The red-flag
# patterns are read at run time and need no retraining.
set -euo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2

fingerprint=$(cat config.yml domain.yml data/*.yml clinic_nlu/*.py clinic_nlu/*.txt facts/facts.yml requirements-lock.txt | sha256sum | cut -d' ' -f1)
stamp=models/.fingerprint
latest=$(ls -t models/*.tar.gz 2>/dev/null | head -n 1 || true)
if [ "${FORCE_TRAIN:-0}" != "1" ] && [ -n "$latest" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$fingerprint" ]; then
  echo "train: $latest is up to date"
  exit 0
fi
mkdir -p models
.venv/bin/rasa train --fixed-model-name spine-clinic --out models "$@"
echo "$fingerprint" > "$stamp"
