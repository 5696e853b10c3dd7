"""clinic_store/rate_limits.py: rate limits shared through a real Redis by several replicas.

The end-to-end check (two Rasa replicas behind nginx, one conversation alternating between them) is
in tests/test_cluster.py; these check the limiter itself against Redis on 127.0.0.1:6379 (db 1).
"""

from __future__ import annotations

import asyncio
import secrets
import socket
import time
from typing import Iterator

import pytest

from clinic_channel.patient import rate_limit_store
from clinic_store.rate_limits import RateLimiter, SharedRateLimiter, make_limiter

pytestmark = pytest.mark.integration

REDIS_URL = "redis://127.0.0.1:6379/1"
SECRET = b"k" * 32


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def prefix() -> Iterator[str]:
    if not _redis_up():
        pytest.skip(
            "Redis not reachable at 127.0.0.1:6379: the shared rate-limit tests are skipped "
            "(scripts/services.sh starts it)"
        )
    import redis

    name = f"ratelimittest{secrets.token_hex(4)}"
    yield name
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{name}:*"):
        client.delete(key)
    client.close()


def replicas(prefix: str, count: int, seconds: float, n: int = 2, url: str = REDIS_URL):
    return [SharedRateLimiter("session", count, seconds, url, SECRET, prefix) for _ in range(n)]


@pytest.mark.asyncio
async def test_two_replicas_share_one_budget(prefix):
    a, b = replicas(prefix, 4, 60)
    waits = [await limiter.acquire("conv-1") for limiter in (a, b, a, b, a, b)]
    assert waits[:4] == [0, 0, 0, 0]
    assert all(59 <= w <= 60 for w in waits[4:]), waits
    assert await a.acquire("conv-2") == 0, "another key has its own budget"
    # In-process limiters (the behaviour before): each replica lets the full budget through.
    local_a, local_b = RateLimiter(4, 60), RateLimiter(4, 60)
    assert [await x.acquire("conv-1") for x in (local_a, local_b) * 3] == [0] * 6


def _redis_seconds() -> float:
    """Redis's clock, which the shared window is measured by."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        seconds, micros = client.time()
        return seconds + micros / 1e6
    finally:
        client.close()


async def _redis_clock_passes(moment: float) -> None:
    while _redis_seconds() <= moment:
        await asyncio.sleep(0.01)


@pytest.mark.asyncio
async def test_the_window_slides_and_refusals_are_not_counted(prefix):
    """Two per second. Each phase is judged by Redis's own clock: a phase that a stalled machine
    stretched over more than the window proves nothing and is run again (never a sleep's length)."""
    (limiter,) = replicas(prefix, 2, 1.0, n=1)
    for _attempt in range(5):
        begun = _redis_seconds()
        first = [await limiter.acquire("k") for _ in range(2)]
        refused = [await limiter.acquire("k") for _ in range(5)]  # refused, not counted
        if _redis_seconds() - begun < 1.0:
            break
        await _redis_clock_passes(_redis_seconds() + 1.0)  # start again on an empty window
    assert first == [0, 0] and refused == [1] * 5
    await _redis_clock_passes(begun + 1.0)  # the counted events have left the window
    for _attempt in range(5):
        begun = _redis_seconds()
        after = [await limiter.acquire("k") for _ in range(3)]
        if _redis_seconds() - begun < 1.0:
            break
        await _redis_clock_passes(_redis_seconds() + 1.0)
    assert after == [0, 0, 1]


@pytest.mark.asyncio
async def test_concurrent_requests_never_take_more_than_the_budget(prefix):
    limiters = replicas(prefix, 10, 60, n=4)
    waits = await asyncio.gather(*(limiters[i % 4].acquire("burst") for i in range(60)))
    assert sum(1 for w in waits if w == 0) == 10


@pytest.mark.asyncio
async def test_redis_holds_no_client_address(prefix):
    import redis

    (limiter,) = replicas(prefix, 5, 60, n=1)
    await limiter.acquire("203.0.113.7")
    client = redis.Redis.from_url(REDIS_URL)
    keys = [k.decode() for k in client.scan_iter(f"{prefix}:*")]
    ttl = client.pttl(keys[0])
    client.close()
    assert len(keys) == 1 and "203.0.113" not in keys[0] and keys[0].startswith(f"{prefix}:ratelimit:session:")
    assert 0 < ttl <= 60_000, "the key expires one window after its last hit"
    other = SharedRateLimiter("session", 5, 60, REDIS_URL, b"other-secret" * 3, prefix)
    assert other.redis_key("203.0.113.7") != limiter.redis_key("203.0.113.7")


@pytest.mark.asyncio
async def test_without_redis_it_limits_per_process_and_answers_quickly(caplog):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    limiter = SharedRateLimiter("client", 3, 60, f"redis://127.0.0.1:{dead_port}/1", SECRET, "x")
    started = time.monotonic()
    waits = [await limiter.acquire("10.0.0.1") for _ in range(5)]
    assert waits[:3] == [0, 0, 0] and waits[3] > 0 and waits[4] > 0
    assert time.monotonic() - started < 5
    warnings = [r for r in caplog.records if "shared rate limit" in r.getMessage()]
    assert len(warnings) == 1, "one warning a minute, not one per request"
    assert "10.0.0.1" not in caplog.text


def test_configuration():
    assert rate_limit_store(env={}) == (None, "spineclinic")
    assert rate_limit_store(env={"RATE_LIMIT_REDIS_URL": REDIS_URL, "REDIS_KEY_PREFIX": "p1"}) == (REDIS_URL, "p1")
    assert rate_limit_store("redis://h:1/2", env={"RATE_LIMIT_REDIS_URL": REDIS_URL}) == (
        "redis://h:1/2",
        "spineclinic",
    )
    assert isinstance(make_limiter("session", (5, 60.0), None, SECRET), RateLimiter)
    assert isinstance(make_limiter("session", (5, 60.0), REDIS_URL, SECRET), SharedRateLimiter)


def test_each_event_loop_gets_its_own_connection(prefix):
    """A connection belongs to the loop that made it: a limiter used from a second loop (a test's, or
    a restarted server's) must still reach Redis, not fall back to counting in the process."""
    (limiter,) = replicas(prefix, 3, 60, n=1)
    limiter.fallback.retry_after = None  # any fallback use would raise TypeError and fail the test
    assert asyncio.run(limiter.acquire("k")) == 0
    assert asyncio.run(limiter.acquire("k")) == 0
    assert asyncio.run(limiter.acquire("k")) == 0
    assert asyncio.run(limiter.acquire("k")) > 0
