"""Staff accounts, login sessions, CSRF tokens and the login rate limit.

- Passwords: ``hashlib.scrypt`` (n=2**15, r=8, p=1, 16-byte random salt, 32-byte key), stored as
  ``scrypt$n$r$p$salt$hash`` (base64); compared in constant time. There is no default account:
  accounts are created with ``python -m review.cli create-user NAME``.
- Sessions: a random 256-bit token in the cookie; only its SHA-256 is stored (``review_sessions``),
  with an absolute expiry and an idle timeout. Each session carries its own CSRF token, which every
  POST must echo in the ``csrf_token`` form field. The login form itself gets an anonymous session,
  replaced by a fresh one on success (no session fixation).
- Rate limit: ``login_max_failures`` failed logins per IP + user name within
  ``login_window_minutes`` lock that pair out for the rest of the window (and 4x that per IP).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from review import store
from review.settings import Settings

SCRYPT_N, SCRYPT_R, SCRYPT_P, KEY_LEN = 2 ** 15, 8, 1, 32
MIN_PASSWORD_LENGTH = 12
USERNAME_RE = r"[a-z][a-z0-9._-]{1,31}"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P,
                         maxmem=128 * 1024 * 1024, dklen=KEY_LEN)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(key)
        actual = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r),
                                p=int(p), maxmem=128 * 1024 * 1024, dklen=len(expected))
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
        raise ValueError("user name: 2-32 characters, lower-case letters, digits, '.', '_' or '-', "
                         "starting with a letter")
    problem = validate_new_password(password)
    if problem:
        raise ValueError(problem)
    with engine.begin() as conn:
        exists = conn.execute(sa.select(store.users.c.id).where(store.users.c.username == username)).first()
        if exists:
            raise ValueError(f"user {username!r} already exists")
        conn.execute(store.users.insert().values(username=username, password_hash=hash_password(password),
                                                 created=time.time(), active=True))
        store.write_audit(conn, "cli", "create_user", username)


def set_password(engine: Engine, username: str, password: str) -> None:
    problem = validate_new_password(password)
    if problem:
        raise ValueError(problem)
    with engine.begin() as conn:
        n = conn.execute(store.users.update().where(store.users.c.username == username)
                         .values(password_hash=hash_password(password), active=True)).rowcount
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
        return [r[0] for r in conn.execute(sa.select(store.users.c.username)
                                           .where(store.users.c.active == True)  # noqa: E712
                                           .order_by(store.users.c.username))]


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
    conn.execute(store.sessions.insert().values(
        token_hash=_token_hash(token), user_id=user_id, csrf_token=secrets.token_urlsafe(32),
        created=now, last_seen=now, expires=now + lifetime))
    return token


def load_session(engine: Engine, settings: Settings, token: Optional[str]) -> Optional[Session]:
    if not token or len(token) > 200:
        return None
    th = _token_hash(token)
    now = time.time()
    with engine.begin() as conn:
        row = conn.execute(
            sa.select(store.sessions, store.users.c.username, store.users.c.active)
            .select_from(store.sessions.outerjoin(store.users, store.users.c.id == store.sessions.c.user_id))
            .where(store.sessions.c.token_hash == th)).first()
        if row is None:
            return None
        idle_limit = settings.session_idle_minutes * 60
        if row.expires < now or (row.user_id and now - row.last_seen > idle_limit) or \
                (row.user_id and not row.active):
            conn.execute(store.sessions.delete().where(store.sessions.c.token_hash == th))
            return None
        if now - row.last_seen > 30:
            conn.execute(store.sessions.update().where(store.sessions.c.token_hash == th).values(last_seen=now))
    return Session(th, row.user_id, row.username if row.user_id else None, row.csrf_token)


def end_session(conn: Connection, token_hash: str) -> None:
    conn.execute(store.sessions.delete().where(store.sessions.c.token_hash == token_hash))


def check_csrf(session: Optional[Session], submitted: Optional[str]) -> bool:
    if session is None or not submitted:
        return False
    return hmac.compare_digest(session.csrf_token.encode(), submitted.encode())


def _limit_keys(ip: str, username: str):
    return f"u:{ip}|{username.lower()[:64]}", f"ip:{ip}"


def login_blocked(conn: Connection, settings: Settings, ip: str, username: str) -> bool:
    since = time.time() - settings.login_window_minutes * 60
    pair_key, ip_key = _limit_keys(ip, username)
    count = lambda key: conn.execute(  # noqa: E731
        sa.select(sa.func.count()).select_from(store.login_failures)
        .where(store.login_failures.c.key == key, store.login_failures.c.ts >= since)).scalar()
    return count(pair_key) >= settings.login_max_failures or count(ip_key) >= 4 * settings.login_max_failures


def record_failure(conn: Connection, ip: str, username: str) -> None:
    now = time.time()
    pair_key, ip_key = _limit_keys(ip, username)
    conn.execute(store.login_failures.insert(), [{"key": pair_key, "ts": now}, {"key": ip_key, "ts": now}])


def clear_failures(conn: Connection, ip: str, username: str) -> None:
    pair_key, _ = _limit_keys(ip, username)
    conn.execute(store.login_failures.delete().where(store.login_failures.c.key == pair_key))


def authenticate(conn: Connection, username: str, password: str) -> Optional[int]:
    """The user's id when the name and password match an active account."""
    row = conn.execute(sa.select(store.users.c.id, store.users.c.password_hash, store.users.c.active)
                       .where(store.users.c.username == username)).first()
    if row is None:
        verify_password(password, _dummy_hash())
        return None
    if not verify_password(password, row.password_hash) or not row.active:
        return None
    return row.id
