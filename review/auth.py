"""Staff accounts, login sessions, CSRF tokens and the login rate limit.

- Passwords: ``hashlib.scrypt`` (n=2**15, r=8, p=1, 16-byte random salt, 32-byte key), stored as
  ``scrypt$n$r$p$salt$hash`` (base64); compared in constant time. There is no default account:
  accounts are created with ``python -m review.cli create-user NAME``.
- Sessions: a random 256-bit token in the cookie; only its SHA-256 is stored (``review_sessions``),
  with an absolute expiry and an idle timeout. Each session carries its own CSRF token, which every
  POST must echo in the ``csrf_token`` form field. The login form itself gets an anonymous session,
  replaced by a fresh one on success (no session fixation).
- Login throttling, by account first: after ``login_max_failures`` failed logins of one account
  (within ``login_window_minutes``, since its last successful login) that account must wait
  ``login_backoff_seconds`` after its latest failure, doubling with each further failure up to the
  window. A per-client-IP limit (``login_ip_max_failures``, high: a whole clinic may share one
  address) applies only when the client IP comes from the ``X-Forwarded-For`` of a trusted proxy
  (``trusted_proxies``); the connection's own address is the proxy's, shared by every staff
  member, so keying on it would let anyone lock the whole clinic out. One account's failures never
  lock another account.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
import time
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from review import store
from review.settings import IPNetwork, Settings

SCRYPT_N, SCRYPT_R, SCRYPT_P, KEY_LEN = 2**15, 8, 1, 32
MIN_PASSWORD_LENGTH = 12
USERNAME_RE = r"[a-z][a-z0-9._-]{1,31}"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, maxmem=128 * 1024 * 1024, dklen=KEY_LEN
    )
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(key)
        actual = hashlib.scrypt(
            password.encode("utf-8"),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=128 * 1024 * 1024,
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


# A real hash to compare against when the user name is unknown, so timing does not reveal it.
_DUMMY_HASH: Optional[str] = None


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password(secrets.token_hex(16))
    return _DUMMY_HASH


def validate_new_password(password: str) -> Optional[str]:
    """An error message, or None when the password is acceptable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"password must be at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > 1024:
        return "password is too long"
    if len(set(password)) < 5:
        return "password is too simple"
    return None


def create_user(engine: Engine, username: str, password: str) -> None:
    import re

    if not re.fullmatch(USERNAME_RE, username):
        raise ValueError(
            "user name: 2-32 characters, lower-case letters, digits, '.', '_' or '-', " "starting with a letter"
        )
    problem = validate_new_password(password)
    if problem:
        raise ValueError(problem)
    with engine.begin() as conn:
        exists = conn.execute(sa.select(store.users.c.id).where(store.users.c.username == username)).first()
        if exists:
            raise ValueError(f"user {username!r} already exists")
        conn.execute(
            store.users.insert().values(
                username=username, password_hash=hash_password(password), created=time.time(), active=True
            )
        )
        store.write_audit(conn, "cli", "create_user", username)


def set_password(engine: Engine, username: str, password: str) -> None:
    problem = validate_new_password(password)
    if problem:
        raise ValueError(problem)
    with engine.begin() as conn:
        n = conn.execute(
            store.users.update()
            .where(store.users.c.username == username)
            .values(password_hash=hash_password(password), active=True)
        ).rowcount
        if not n:
            raise ValueError(f"no user {username!r}")
        # end that user's sessions
        uid = conn.execute(sa.select(store.users.c.id).where(store.users.c.username == username)).scalar()
        conn.execute(store.sessions.delete().where(store.sessions.c.user_id == uid))
        store.write_audit(conn, "cli", "set_password", username)


def disable_user(engine: Engine, username: str) -> None:
    """Lock an account (e.g. someone left) and end its sessions; set-password re-enables it."""
    with engine.begin() as conn:
        uid = conn.execute(sa.select(store.users.c.id).where(store.users.c.username == username)).scalar()
        if uid is None:
            raise ValueError(f"no user {username!r}")
        conn.execute(store.users.update().where(store.users.c.id == uid).values(active=False))
        conn.execute(store.sessions.delete().where(store.sessions.c.user_id == uid))
        store.write_audit(conn, "cli", "disable_user", username)


def list_usernames(engine: Engine) -> list:
    with engine.connect() as conn:
        return [
            r[0]
            for r in conn.execute(
                sa.select(store.users.c.username)
                .where(store.users.c.active == True)  # noqa: E712
                .order_by(store.users.c.username)
            )
        ]


@dataclass
class Session:
    token_hash: str
    user_id: Optional[int]
    username: Optional[str]
    csrf_token: str


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_session(conn: Connection, settings: Settings, user_id: Optional[int]) -> str:
    """Create a session row; returns the cookie value (never stored)."""
    token = secrets.token_urlsafe(32)
    now = time.time()
    lifetime = settings.session_hours * 3600 if user_id else 3600
    conn.execute(
        store.sessions.insert().values(
            token_hash=_token_hash(token),
            user_id=user_id,
            csrf_token=secrets.token_urlsafe(32),
            created=now,
            last_seen=now,
            expires=now + lifetime,
        )
    )
    return token


def load_session(engine: Engine, settings: Settings, token: Optional[str], touch: bool = True) -> Optional[Session]:
    """The live session of ``token``, else None. ``touch=False`` (automatic requests such as the live
    count) does not count as activity, so an open tab does not keep an idle session alive."""
    if not token or len(token) > 200:
        return None
    th = _token_hash(token)
    now = time.time()
    with engine.begin() as conn:
        row = conn.execute(
            sa.select(store.sessions, store.users.c.username, store.users.c.active)
            .select_from(store.sessions.outerjoin(store.users, store.users.c.id == store.sessions.c.user_id))
            .where(store.sessions.c.token_hash == th)
        ).first()
        if row is None:
            return None
        idle_limit = settings.session_idle_minutes * 60
        if row.expires < now or (row.user_id and now - row.last_seen > idle_limit) or (row.user_id and not row.active):
            conn.execute(store.sessions.delete().where(store.sessions.c.token_hash == th))
            return None
        if touch and now - row.last_seen > 30:
            conn.execute(store.sessions.update().where(store.sessions.c.token_hash == th).values(last_seen=now))
    return Session(th, row.user_id, row.username if row.user_id else None, row.csrf_token)


def end_session(conn: Connection, token_hash: str) -> None:
    conn.execute(store.sessions.delete().where(store.sessions.c.token_hash == token_hash))


def check_csrf(session: Optional[Session], submitted: Optional[str]) -> bool:
    if session is None or not submitted:
        return False
    return hmac.compare_digest(session.csrf_token.encode(), submitted.encode())


def _account_key(username: str) -> str:
    return f"acct:{username.lower()[:64]}"


def _ip_key(client_ip: str) -> str:
    return f"ip:{client_ip[:64]}"


def forwarded_client_ip(
    peer: Optional[str], forwarded_for: Optional[str], trusted: Sequence[IPNetwork]
) -> Optional[str]:
    """The client's address as a trusted proxy reported it, or None when there is none to believe.

    Only a connection from a trusted proxy has its ``X-Forwarded-For`` read, from the right: each
    trusted proxy appends the address it got the request from, so the right-most address that is not
    itself a trusted proxy is the client. Anything left of it was written by the client and is
    never believed. A malformed entry there means None.
    """
    if not trusted or not peer or not forwarded_for or not _is_trusted(peer, trusted):
        return None
    for hop in reversed([h.strip() for h in forwarded_for.split(",")]):
        try:
            address = ipaddress.ip_address(hop)
        except ValueError:
            return None
        if not any(address in network for network in trusted):
            return str(address)
    return None


def _is_trusted(address: str, trusted: Sequence[IPNetwork]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def _failures(conn: Connection, key: str, since: float) -> Tuple[int, Optional[float]]:
    """How many failures ``key`` has since ``since``, and the time of the latest."""
    row = conn.execute(
        sa.select(sa.func.count(), sa.func.max(store.login_failures.c.ts)).where(
            store.login_failures.c.key == key, store.login_failures.c.ts >= since
        )
    ).first()
    return int(row[0] or 0), row[1]


def account_backoff(settings: Settings, failures: int) -> float:
    """Seconds an account waits after its latest failure: none below ``login_max_failures``, then
    ``login_backoff_seconds`` doubling with each further failure, at most the window."""
    if failures < settings.login_max_failures:
        return 0.0
    doublings = min(failures - settings.login_max_failures, 32)  # 2**32 * any base is past the cap
    return min(settings.login_backoff_seconds * 2**doublings, settings.login_window_minutes * 60.0)


def login_wait(
    conn: Connection, settings: Settings, username: str, client_ip: Optional[str] = None, now: Optional[float] = None
) -> float:
    """Seconds before ``username`` may try to log in again (0: now). ``client_ip``: the client's
    address from a trusted proxy (:func:`forwarded_client_ip`), or None (then no per-IP limit)."""
    now = time.time() if now is None else now
    since = now - settings.login_window_minutes * 60
    count, latest = _failures(conn, _account_key(username), since)
    wait = (latest + account_backoff(settings, count) - now) if latest is not None else 0.0
    if client_ip:
        ip_count, ip_latest = _failures(conn, _ip_key(client_ip), since)
        if ip_count >= settings.login_ip_max_failures and ip_latest is not None:
            # Until enough of this address's failures have left the window.
            oldest_kept = conn.execute(
                sa.select(store.login_failures.c.ts)
                .where(store.login_failures.c.key == _ip_key(client_ip), store.login_failures.c.ts >= since)
                .order_by(store.login_failures.c.ts.desc())
                .offset(settings.login_ip_max_failures - 1)
                .limit(1)
            ).scalar()
            wait = max(wait, oldest_kept + settings.login_window_minutes * 60 - now)
    return max(0.0, wait)


def record_failure(
    conn: Connection, username: str, client_ip: Optional[str] = None, now: Optional[float] = None
) -> None:
    """Count a failed login against the account (and the trusted client IP, if known)."""
    now = time.time() if now is None else now
    rows = [{"key": _account_key(username), "ts": now}]
    if client_ip:
        rows.append({"key": _ip_key(client_ip), "ts": now})
    conn.execute(store.login_failures.insert(), rows)


def clear_failures(conn: Connection, username: str) -> None:
    """Forget an account's failures (after it logged in; the per-IP count stays)."""
    conn.execute(store.login_failures.delete().where(store.login_failures.c.key == _account_key(username)))


def authenticate(conn: Connection, username: str, password: str) -> Optional[int]:
    """The user's id when the name and password match an active account."""
    row = conn.execute(
        sa.select(store.users.c.id, store.users.c.password_hash, store.users.c.active).where(
            store.users.c.username == username
        )
    ).first()
    if row is None:
        verify_password(password, _dummy_hash())
        return None
    if not verify_password(password, row.password_hash) or not row.active:
        return None
    return row.id
