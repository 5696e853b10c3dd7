"""Rate limits shared by every Rasa replica (and Sanic worker) through Redis.

The channels' limits (messages per conversation, per client address, new conversations per
address) were kept in one process's memory (:class:`RateLimiter`, still the fallback). Behind nginx with N replicas,
each replica counted on its own, so a client got N times the configured rate. When the channels are
given a Redis URL (``RATE_LIMIT_REDIS_URL``, which ``make run-cluster`` sets to the lock store's
Redis), :class:`SharedRateLimiter` keeps the same sliding window in Redis instead:

- one sorted set per key, scored by Redis's own clock (``TIME``), so replicas with drifting clocks
  still agree; a Lua script drops hits older than the window, counts, and adds the new hit in one
  atomic step (no two replicas can both take the last slot);
- keys are HMACs of the conversation id or client address under the deployment's secret, so Redis
  holds no client addresses; each set expires one window after its last hit;
- a refused request is not counted, as in the in-process limiter.

If Redis does not answer (timeout 0.5 s), the request is checked against an in-process limiter with
the same rate (the pre-cluster behaviour, per replica) and a warning without patient data is logged
at most once a minute; the patient is never refused because the limiter's store failed. The conversation
lock store usually uses the same Redis, so such turns then fail there with a clear 503 anyway.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import time
import weakref
from collections import deque
from typing import Any, Deque, Dict, Optional, Tuple


logger = logging.getLogger(__name__)

REDIS_TIMEOUT = 0.5
WARN_EVERY = 60.0

# KEYS[1]: the sorted set; ARGV: window ms, count, member suffix. Returns 0 (counted) or ms to wait.
# redis.replicate_commands(): Redis 3.2-4 refuse writes after TIME in a script without it (a no-op from 5).
_SLIDING_WINDOW = """
redis.replicate_commands()
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return math.max(1, tonumber(oldest[2]) + window - now)
end
redis.call('ZADD', KEYS[1], now, now .. '-' .. ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return 0
"""


class RateLimiter:
    """At most ``count`` events per ``seconds`` per key (sliding window), in this process's memory."""

    def __init__(self, count: int, seconds: float, max_keys: int = 100_000) -> None:
        self.count, self.seconds, self.max_keys = count, seconds, max_keys
        self._hits: Dict[str, Deque[float]] = {}

    def retry_after(self, key: str, now: Optional[float] = None) -> int:
        """0 and the event is counted, or the whole seconds to wait (the event is not counted)."""
        now = time.monotonic() if now is None else now
        hits = self._hits.get(key)
        if hits is None:
            if len(self._hits) >= self.max_keys:
                self._evict(now)
            hits = self._hits[key] = deque()
        while hits and hits[0] <= now - self.seconds:
            hits.popleft()
        if len(hits) >= self.count:
            return max(1, int(hits[0] + self.seconds - now + 0.999))
        hits.append(now)
        return 0

    async def acquire(self, key: str) -> int:
        """:meth:`retry_after` now; the channels await it (as the Redis-shared limiter's)."""
        return self.retry_after(key)

    async def close(self) -> None:
        """Nothing to release (the Redis-shared limiter closes its connections)."""

    def _evict(self, now: float) -> None:
        for key in [k for k, h in self._hits.items() if not h or h[-1] <= now - self.seconds]:
            del self._hits[key]
        while len(self._hits) >= self.max_keys:  # still full: drop the oldest keys
            del self._hits[next(iter(self._hits))]


DEFAULT_KEY_PREFIX = "spineclinic"  # Redis keys' prefix when REDIS_KEY_PREFIX is unset (as scripts/run_cluster.sh)


class SharedRateLimiter:
    """At most ``count`` events per ``seconds`` per key across every process using ``redis_url``."""

    def __init__(
        self, name: str, count: int, seconds: float, redis_url: str, secret: bytes, key_prefix: str = DEFAULT_KEY_PREFIX
    ) -> None:
        self.name, self.count, self.seconds = name, count, seconds
        self.redis_url, self.key_prefix = redis_url, key_prefix
        self._secret = hmac.new(secret, b"clinic rate-limit keys", hashlib.sha256).digest()  # not the signing key
        self.fallback = RateLimiter(count, seconds)
        # Per event loop (a redis.asyncio connection belongs to the loop that made it): (client, script).
        self._clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Tuple[Any, Any]]" = (
            weakref.WeakKeyDictionary()
        )
        self._last_warning = float("-inf")

    def redis_key(self, key: str) -> str:
        digest = hmac.new(self._secret, f"{self.name}\0{key}".encode("utf-8"), hashlib.sha256).hexdigest()[:32]
        return f"{self.key_prefix}:ratelimit:{self.name}:{digest}"

    def _client(self) -> Tuple[Any, Any]:
        import redis.asyncio

        loop = asyncio.get_running_loop()
        found = self._clients.get(loop)
        if found is None:
            client = redis.asyncio.Redis.from_url(
                self.redis_url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT
            )
            found = self._clients[loop] = (client, client.register_script(_SLIDING_WINDOW))
        return found

    async def acquire(self, key: str) -> int:
        """0 and the event is counted, or the whole seconds to wait (the event is not counted)."""
        try:
            _client, script = self._client()
            wait_ms = await asyncio.wait_for(
                script(keys=[self.redis_key(key)], args=[int(self.seconds * 1000), self.count, secrets.token_hex(4)]),
                REDIS_TIMEOUT * 2,
            )
        except Exception as error:  # noqa: BLE001 - any store failure: limit in this process instead
            now = time.monotonic()
            if now - self._last_warning >= WARN_EVERY:
                self._last_warning = now
                logger.warning(
                    "shared rate limit '%s' unavailable (%s): limiting per process", self.name, type(error).__name__
                )
            return self.fallback.retry_after(key)
        return 0 if not wait_ms else max(1, int((int(wait_ms) + 999) // 1000))

    async def close(self) -> None:
        """Close this event loop's connection pool (server stop)."""
        found = self._clients.pop(asyncio.get_running_loop(), None)
        if found is not None:
            await found[0].close(close_connection_pool=True)


def make_limiter(
    name: str, rate: Tuple[int, float], redis_url: Optional[str], secret: bytes, key_prefix: str = DEFAULT_KEY_PREFIX
) -> Any:
    """A :class:`SharedRateLimiter` when ``redis_url`` is set, else the in-process ``RateLimiter``."""
    if redis_url:
        return SharedRateLimiter(name, rate[0], rate[1], redis_url, secret, key_prefix)
    return RateLimiter(*rate)
