#!/usr/bin/env bash
# Start the action server, the Rasa server, the staff review app and the demo website with the chat
# widget, on the embedded defaults (SQLite in var/, in-memory lock store). Ctrl-C stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2 SANIC_HOST="${ACTION_HOST:-127.0.0.1}"
mkdir -p var
RASA_PORT="${RASA_PORT:-5005}"
ACTION_PORT=5055  # must match action_endpoint in endpoints.yml
RASA_HOST="${RASA_HOST:-127.0.0.1}"
DEMO_PORT="${DEMO_PORT:-8080}"
# The URL the browser uses to reach the Rasa server (differs from RASA_HOST when that is 0.0.0.0).
RASA_PUBLIC_URL="${RASA_PUBLIC_URL:-http://127.0.0.1:$RASA_PORT}"
CORS_ORIGINS="${CORS_ORIGINS:-http://127.0.0.1:$DEMO_PORT http://localhost:$DEMO_PORT}"
REVIEW_HOST="${REVIEW_HOST:-127.0.0.1}"
REVIEW_PORT="${REVIEW_PORT:-8081}"
# The channels' limits: credentials.yml; a benchmark gives bench/credentials.load.yml (BENCHMARKS.md).
CREDENTIALS="${CREDENTIALS:-credentials.yml}"
# The one database setting, shared by the Rasa server and the staff review app: unset, both use
# var/rasa.db (endpoints.yml); set, the Rasa server reads it through endpoints.database.yml.
if [ -n "${DATABASE_URL:-}" ]; then
  ENDPOINTS="${ENDPOINTS:-endpoints.database.yml}"
else
  export DATABASE_URL="sqlite:///$PWD/var/rasa.db"
fi

# The HTTP API (/model/parse, trackers, ...) stays off unless a token is configured; with a token it
# requires ?token=... on every call (rasa --auth-token). Never expose it publicly.
api_args=()
if [ -n "${RASA_API_TOKEN:-}" ]; then
  api_args=(--enable-api --auth-token "$RASA_API_TOKEN")
fi

pids=()
cleanup() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

.venv/bin/rasa run actions --actions actions --port "$ACTION_PORT" &
pids+=($!)
# shellcheck disable=SC2086
.venv/bin/python -m clinic_runtime run --model models --endpoints "${ENDPOINTS:-endpoints.yml}" --credentials "$CREDENTIALS" \
  --interface "$RASA_HOST" --port "$RASA_PORT" --cors $CORS_ORIGINS "${api_args[@]}" &
pids+=($!)
# The staff review app (review/), on its own port; it reads the same database.
.venv/bin/python -m review.cli serve --host "$REVIEW_HOST" --port "$REVIEW_PORT" &
pids+=($!)
# The mock clinic website with the widget (widget/demo/), loopback only, strict CSP.
.venv/bin/python scripts/serve_demo.py --port "$DEMO_PORT" --rasa-url "$RASA_PUBLIC_URL" --quiet &
pids+=($!)
echo "run: Rasa server on http://$RASA_HOST:$RASA_PORT (patient channel: /webhooks/patient/...), actions on :$ACTION_PORT"
echo "run: open http://127.0.0.1:$DEMO_PORT/ and click \"Chat with us\" (the widget on a demo clinic page)"
echo "run: staff review app on http://$REVIEW_HOST:$REVIEW_PORT (create an account first: .venv/bin/python -m review.cli create-user NAME)"
wait -n "${pids[@]}"
