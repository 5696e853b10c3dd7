#!/usr/bin/env bash
# Scale-out: N Rasa server replicas and N action servers behind nginx, sharing one
# PostgreSQL tracker store and a Redis lock store (endpoints.cluster.yml), plus the staff review app.
# `make run-cluster`; Ctrl-C (or SIGTERM) stops everything this script started, nginx included.
#
#   public  http://$PUBLIC_HOST:$RASA_PORT    nginx -> Rasa replicas (patient channel /webhooks/..., health /)
#   actions http://127.0.0.1:$ACTION_PORT     nginx -> action servers (the replicas' action_endpoint)
#   replicas and action servers               127.0.0.1:$RASA_BASE_PORT+i, 127.0.0.1:$ACTION_BASE_PORT+i
#   staff   http://$REVIEW_HOST:$REVIEW_PORT  review app (same database)
#
# Settings (environment; defaults in brackets): N_RASA [2], N_ACTIONS [2], RASA_PORT [5005],
# ACTION_PORT [5055], RASA_BASE_PORT [5100], ACTION_BASE_PORT [5150] (or explicit lists
# RASA_REPLICA_PORTS / ACTION_REPLICA_PORTS, "p1 p2 ..."), PUBLIC_HOST [127.0.0.1], REVIEW_HOST
# [127.0.0.1], REVIEW_PORT [8081; "off" to skip], CLUSTER_DATABASE_URL
# [postgresql://postgres@127.0.0.1:5432/spine_clinic; created if missing], REDIS_HOST [127.0.0.1],
# REDIS_PORT [6379], REDIS_DB [1], REDIS_KEY_PREFIX [spineclinic], TICKET_LOCK_LIFETIME [60],
# RATE_LIMIT_REDIS_URL [redis://$REDIS_HOST:$REDIS_PORT/$REDIS_DB: the channels' rate limits are
# shared by all replicas; set it empty for limits per replica],
# CREDENTIALS [credentials.yml], ENDPOINTS [endpoints.cluster.yml],
# PATIENT_SESSION_SECRET [kept in $CLUSTER_DIR/patient-session.key],
# CLUSTER_DIR [var/cluster: nginx config, pid files, logs], NGINX [nginx], NGINX_WORKERS [1],
# RASA_THREADS [1: math threads per replica; 0 = library default], CORS_ORIGINS, RASA_API_TOKEN
# (HTTP API on the replicas' loopback ports only, never via nginx).
set -euo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2 PYTHONUNBUFFERED=1 SANIC_HOST=127.0.0.1

N_RASA="${N_RASA:-2}"
N_ACTIONS="${N_ACTIONS:-2}"
PUBLIC_HOST="${PUBLIC_HOST:-127.0.0.1}"
RASA_PORT="${RASA_PORT:-5005}"
ACTION_PORT="${ACTION_PORT:-5055}"
RASA_BASE_PORT="${RASA_BASE_PORT:-5100}"
ACTION_BASE_PORT="${ACTION_BASE_PORT:-5150}"
RASA_REPLICA_PORTS="${RASA_REPLICA_PORTS:-$(seq -s ' ' $((RASA_BASE_PORT + 1)) $((RASA_BASE_PORT + N_RASA)))}"
ACTION_REPLICA_PORTS="${ACTION_REPLICA_PORTS:-$(seq -s ' ' $((ACTION_BASE_PORT + 1)) $((ACTION_BASE_PORT + N_ACTIONS)))}"
REVIEW_HOST="${REVIEW_HOST:-127.0.0.1}"
REVIEW_PORT="${REVIEW_PORT:-8081}"
CREDENTIALS="${CREDENTIALS:-credentials.yml}"
ENDPOINTS="${ENDPOINTS:-endpoints.cluster.yml}"
# Math threads per Rasa replica (OpenBLAS/OpenMP/TensorFlow): replicas, not threads, use the cores
# (each turn's matrices are tiny; extra threads mostly spin). 0: the libraries' defaults.
RASA_THREADS="${RASA_THREADS:-1}"
MODEL="${MODEL:-models}"
CLUSTER_DIR="$(mkdir -p "${CLUSTER_DIR:-var/cluster}" && cd "${CLUSTER_DIR:-var/cluster}" && pwd)"
NGINX="${NGINX:-nginx}"
NGINX_WORKERS="${NGINX_WORKERS:-1}"
# Not DATABASE_URL: the Makefile exports that as the single-server SQLite default.
export DATABASE_URL="${CLUSTER_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/spine_clinic}"
export REDIS_HOST="${REDIS_HOST:-127.0.0.1}" REDIS_PORT="${REDIS_PORT:-6379}" REDIS_DB="${REDIS_DB:-1}"
export REDIS_KEY_PREFIX="${REDIS_KEY_PREFIX:-spineclinic}"
export RATE_LIMIT_REDIS_URL="${RATE_LIMIT_REDIS_URL-redis://$REDIS_HOST:$REDIS_PORT/$REDIS_DB}"
export TICKET_LOCK_LIFETIME="${TICKET_LOCK_LIFETIME:-60}"
export ACTION_ENDPOINT_URL="http://127.0.0.1:$ACTION_PORT/webhook"

read -r -a rasa_ports <<<"$RASA_REPLICA_PORTS"
read -r -a action_ports <<<"$ACTION_REPLICA_PORTS"
[ "${#rasa_ports[@]}" -ge 1 ] && [ "${#action_ports[@]}" -ge 1 ] || { echo "run-cluster: need at least one replica of each" >&2; exit 2; }
case "$REDIS_KEY_PREFIX" in *[!A-Za-z0-9]*|"") echo "run-cluster: REDIS_KEY_PREFIX must be letters and digits" >&2; exit 2 ;; esac
command -v "$NGINX" >/dev/null || { echo "run-cluster: nginx not found (apt-get install nginx)" >&2; exit 2; }
ls "$MODEL"/*.tar.gz >/dev/null 2>&1 || { echo "run-cluster: no trained model in $MODEL/ (make train)" >&2; exit 2; }

mkdir -p "$CLUSTER_DIR/logs" "$CLUSTER_DIR/pids" "$CLUSTER_DIR/nginx-temp"
rm -f "$CLUSTER_DIR"/pids/*.pid

# All replicas must sign and check conversation ids with the same key.
if [ -z "${PATIENT_SESSION_SECRET:-}" ]; then
  if [ ! -s "$CLUSTER_DIR/patient-session.key" ]; then
    (umask 077 && .venv/bin/python -c 'import secrets; print(secrets.token_hex(32))' >"$CLUSTER_DIR/patient-session.key")
  fi
  PATIENT_SESSION_SECRET="$(cat "$CLUSTER_DIR/patient-session.key")"
fi
export PATIENT_SESSION_SECRET

# PostgreSQL: create the database if missing, and Rasa's events table before the replicas start
# (several replicas creating it at once would race). Redis: must answer.
.venv/bin/python - <<'PY'
import os, re, sys
import sqlalchemy as sa
from sqlalchemy.engine import make_url

url = make_url(os.environ["DATABASE_URL"])
if not url.drivername.startswith("postgresql"):
    sys.exit("run-cluster: the cluster needs a PostgreSQL DATABASE (CLUSTER_DATABASE_URL=postgresql://...)")
if not re.fullmatch(r"[A-Za-z0-9_]+", url.database or ""):
    sys.exit("run-cluster: database name must be letters, digits and _")
admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
try:
    with admin.connect() as conn:
        if not conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": url.database}).scalar():
            conn.execute(sa.text(f'CREATE DATABASE "{url.database}"'))
            print(f"run-cluster: created database {url.database}")
except sa.exc.OperationalError as error:
    sys.exit(f"run-cluster: PostgreSQL not reachable at {url.host}:{url.port or 5432} ({type(error).__name__}); scripts/services.sh starts it")
finally:
    admin.dispose()
import redis
try:
    redis.Redis(host=os.environ["REDIS_HOST"], port=int(os.environ["REDIS_PORT"]), socket_timeout=3).ping()
except redis.exceptions.RedisError as error:
    sys.exit(f"run-cluster: Redis not reachable at {os.environ['REDIS_HOST']}:{os.environ['REDIS_PORT']} ({type(error).__name__}); scripts/services.sh starts it")
from rasa.core.tracker_store import SQLTrackerStore
SQLTrackerStore(host=os.environ["DATABASE_URL"]).engine.dispose()  # creates the events table if missing
PY

# nginx: public port -> Rasa replicas, action port -> action servers. Connection failures (a replica
# down or not started) go to the next server; a request already sent is never re-sent (POST).
conf="$CLUSTER_DIR/nginx.conf"
# The errors nginx answers itself (too large, not proxied, every replica down) as the channel's JSON.
error_pages=$(.venv/bin/python scripts/proxy_error_pages.py --credentials "$CREDENTIALS")
{
  echo "# Written by scripts/run_cluster.sh; rewritten on every start."
  echo "worker_processes $NGINX_WORKERS;"
  echo "daemon off;"
  echo "pid $CLUSTER_DIR/nginx.pid;"
  echo "error_log $CLUSTER_DIR/logs/nginx-error.log warn;"
  echo "events { worker_connections 1024; }"
  echo "http {"
  # No request bodies (patient text) in the log; conversation ids travel in bodies, not URLs.
  echo "  log_format cluster '\$remote_addr [\$time_local] \"\$request\" \$status \$body_bytes_sent rt=\$request_time upstream=\$upstream_addr \$upstream_status urt=\$upstream_response_time';"
  echo "  access_log $CLUSTER_DIR/logs/nginx-access.log cluster buffer=32k flush=1s;"
  for t in client_body proxy fastcgi uwsgi scgi; do echo "  ${t}_temp_path $CLUSTER_DIR/nginx-temp/$t;"; done
  echo "  server_tokens off;"
  echo "  client_body_timeout 10s; client_header_timeout 10s; send_timeout 30s; keepalive_timeout 30s;"
  echo "  upstream rasa_replicas {"
  echo "    least_conn;"
  for p in "${rasa_ports[@]}"; do echo "    server 127.0.0.1:$p max_fails=1 fail_timeout=5s;"; done
  echo "    keepalive 32;"
  echo "  }"
  echo "  upstream action_servers {"
  echo "    least_conn;"
  for p in "${action_ports[@]}"; do echo "    server 127.0.0.1:$p max_fails=1 fail_timeout=5s;"; done
  echo "    keepalive 16;"
  echo "  }"
  echo "  proxy_http_version 1.1;"
  echo "  proxy_set_header Connection \"\";"
  echo "  proxy_set_header Host \$host;"
  echo "  proxy_set_header X-Forwarded-For \$remote_addr;  # replaced, not appended: one trusted hop"
  echo "  proxy_set_header X-Forwarded-Proto \$scheme;"
  echo "  proxy_buffer_size 16k; proxy_buffers 16 16k; proxy_max_temp_file_size 0;  # no temp files"
  echo "  proxy_connect_timeout 2s;"
  echo "  proxy_send_timeout 15s;"
  echo "  proxy_next_upstream error timeout;"
  echo "  proxy_next_upstream_tries $(( ${#rasa_ports[@]} > ${#action_ports[@]} ? ${#rasa_ports[@]} : ${#action_ports[@]} ));"
  echo "  proxy_next_upstream_timeout 10s;"
  echo "  server {"
  echo "    listen $PUBLIC_HOST:$RASA_PORT;"
  echo "    client_max_body_size 16k;  # the patient channel's max_body_bytes"
  echo "    client_body_buffer_size 16k;"
  echo "    proxy_read_timeout $((TICKET_LOCK_LIFETIME + 15))s;  # a turn may wait for the conversation lock"
  echo "$error_pages"
  echo "    location /webhooks/patient/ { proxy_pass http://rasa_replicas; }  # the widget's channel only"
  echo "    location = / { proxy_pass http://rasa_replicas; }"
  echo "    location / { return 404; }  # the Rasa HTTP API is never exposed through the proxy"
  echo "  }"
  echo "  server {"
  echo "    listen 127.0.0.1:$ACTION_PORT;"
  echo "    client_max_body_size 8m;  # Rasa posts the whole conversation to the action server"
  echo "    client_body_buffer_size 8m;  # kept in memory (allocated per request up to its size)"
  echo "    proxy_read_timeout 30s;"
  echo "    location / { proxy_pass http://action_servers; }"
  echo "  }"
  echo "}"
} >"$conf"
"$NGINX" -t -q -p "$CLUSTER_DIR" -e "$CLUSTER_DIR/logs/nginx-error.log" -c "$conf"

api_args=()
if [ -n "${RASA_API_TOKEN:-}" ]; then
  api_args=(--enable-api --auth-token "$RASA_API_TOKEN")
fi
cors_args=()
if [ -n "${CORS_ORIGINS:-}" ]; then
  # shellcheck disable=SC2206
  cors_args=(--cors $CORS_ORIGINS)
fi

pids=()
cleanup() {
  trap - INT TERM EXIT
  echo "run-cluster: stopping"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 40); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.5
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -f "$CLUSTER_DIR"/pids/*.pid
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start() {  # start NAME CMD...: background process, output in logs/NAME.log, pid in pids/NAME.pid
  local name="$1"; shift
  "$@" >>"$CLUSTER_DIR/logs/$name.log" 2>&1 &
  pids+=($!)
  echo $! >"$CLUSTER_DIR/pids/$name.pid"
}

i=0
for p in "${action_ports[@]}"; do
  i=$((i + 1))
  start "actions-$i" .venv/bin/rasa run actions --actions actions --port "$p"
done
thread_env=()
if [ "$RASA_THREADS" != 0 ]; then
  for v in OMP_NUM_THREADS OPENBLAS_NUM_THREADS MKL_NUM_THREADS TF_INTRA_OP_PARALLELISM_THREADS TF_INTER_OP_PARALLELISM_THREADS; do
    thread_env+=("$v=$RASA_THREADS")
  done
fi
i=0
for p in "${rasa_ports[@]}"; do
  i=$((i + 1))
  # SANIC_PROXIES_COUNT=1: the client address (rate limits) is nginx's X-Forwarded-For.
  start "rasa-$i" env SANIC_PROXIES_COUNT=1 "${thread_env[@]}" .venv/bin/python -m clinic_runtime run --model "$MODEL" --endpoints "$ENDPOINTS" \
    --credentials "$CREDENTIALS" --interface 127.0.0.1 --port "$p" "${cors_args[@]}" "${api_args[@]}"
done
if [ "$REVIEW_PORT" != "off" ]; then
  start review .venv/bin/python -m review.cli serve --host "$REVIEW_HOST" --port "$REVIEW_PORT"
fi
start nginx "$NGINX" -p "$CLUSTER_DIR" -e "$CLUSTER_DIR/logs/nginx-error.log" -c "$conf"
nginx_pid=$!

echo "run-cluster: starting ${#rasa_ports[@]} Rasa replicas (ports ${rasa_ports[*]}) and ${#action_ports[@]} action servers (ports ${action_ports[*]}); logs in $CLUSTER_DIR/logs/"
ready=()
for _ in $(seq 1 600); do  # up to ~5 min: the replicas load the model in parallel
  ready=()
  for p in "${rasa_ports[@]}"; do
    curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$p/webhooks/patient/health" 2>/dev/null && ready+=("$p")
  done
  [ "${#ready[@]}" = "${#rasa_ports[@]}" ] && break
  kill -0 "$nginx_pid" 2>/dev/null || { echo "run-cluster: nginx exited (see $CLUSTER_DIR/logs/nginx-error.log)" >&2; exit 1; }
  sleep 0.5
done
echo "run-cluster: ${#ready[@]}/${#rasa_ports[@]} replicas ready"
echo "run-cluster: patient channel http://$PUBLIC_HOST:$RASA_PORT/webhooks/patient/{session,message,health} (nginx)"
echo "run-cluster: action servers behind http://127.0.0.1:$ACTION_PORT/webhook (nginx)"
[ "$REVIEW_PORT" != "off" ] && echo "run-cluster: staff review app http://$REVIEW_HOST:$REVIEW_PORT (create an account: DATABASE_URL=$DATABASE_URL .venv/bin/python -m review.cli create-user NAME)"
echo "run-cluster: tracker store $DATABASE_URL, lock store redis://$REDIS_HOST:$REDIS_PORT/$REDIS_DB prefix $REDIS_KEY_PREFIX, rate limits ${RATE_LIMIT_REDIS_URL:-per replica}; Ctrl-C stops all"
echo "run-cluster: ready"

# Runs until nginx exits or a signal arrives. A replica that dies is reported (nginx routes around it).
reported=""
while kill -0 "$nginx_pid" 2>/dev/null; do
  for f in "$CLUSTER_DIR"/pids/rasa-*.pid "$CLUSTER_DIR"/pids/actions-*.pid; do
    [ -e "$f" ] || continue
    name="$(basename "$f" .pid)"
    if ! kill -0 "$(cat "$f")" 2>/dev/null && [[ " $reported " != *" $name "* ]]; then
      echo "run-cluster: $name exited (see $CLUSTER_DIR/logs/$name.log); the others carry on" >&2
      reported="$reported $name"
    fi
  done
  sleep 1 & wait $! || true
done
echo "run-cluster: nginx exited" >&2
exit 1
