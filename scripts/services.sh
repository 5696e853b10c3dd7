#!/usr/bin/env bash
# Make sure the local PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) are running: the store,
# review-app and scale-out tests use them. The embedded default (`make run`) needs neither.
set -uo pipefail
up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if ! up 5432; then
  echo "services: starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
fi
if ! up 6379; then
  echo "services: starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
fi
for _ in $(seq 1 30); do up 5432 && up 6379 && break; sleep 1; done
up 5432 && echo "services: PostgreSQL up" || echo "services: WARNING: PostgreSQL is not reachable; its tests will skip"
up 6379 && echo "services: Redis up" || echo "services: WARNING: Redis is not reachable; its tests will skip"
