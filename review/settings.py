"""Every setting of the review app, read from the environment here and nowhere else.

``DATABASE_URL`` is the one database setting shared with the Rasa server's SQL tracker store
(an SQLAlchemy URL). Unset, it is the SQLite file the Rasa server uses by default, ``var/rasa.db``.
"""

from __future__ import annotations

import ipaddress
import os
import shlex
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping, Optional, Tuple, Union
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

IPNetwork = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite:///{ROOT / 'var' / 'rasa.db'}"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _bool(env: Mapping[str, str], key: str, default: bool) -> bool:
    raw = env.get(key)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{key} must be true or false, not {raw!r}")


def _optional_int(env: Mapping[str, str], key: str) -> Optional[int]:
    raw = env.get(key)
    if raw is None or raw.strip() == "":
        return None
    return int(raw)


def _int(env: Mapping[str, str], key: str, default: int) -> int:
    value = _optional_int(env, key)
    return default if value is None else value


def _float(env: Mapping[str, str], key: str, default: float) -> float:
    raw = env.get(key)
    if raw is None or raw.strip() == "":
        return default
    return float(raw)


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 8081
    low_confidence_threshold: float = 0.5
    retention_days: Optional[int] = None
    secure_cookies: bool = True
    redact_contact_details: bool = True
    session_hours: int = 8  # absolute session lifetime
    session_idle_minutes: int = 30  # a session unused for this long ends
    login_max_failures: int = 5  # failed logins of one account before it must wait (then back-off)
    login_window_minutes: int = 15  # failures older than this are forgotten; also the longest wait
    login_backoff_seconds: float = 30.0  # the first wait; it doubles with each further failure
    login_ip_max_failures: int = 100  # per client IP (only one taken from a trusted proxy's X-Forwarded-For)
    trusted_proxies: Tuple[IPNetwork, ...] = ()  # reverse proxies whose X-Forwarded-For is believed
    page_size: int = 50
    index_interval_seconds: float = 5.0  # background indexer period (0 = only on requests)
    timezone: str = "UTC"  # IANA zone name in which staff see times (stored times stay UTC)
    live_poll_seconds: float = 15.0  # how often open pages ask for the live count (crisis/emergency)
    public_url: str = ""  # the app's address as staff reach it, for links in alerts ("" = http://host:port)
    alert_webhook: str = ""  # URL that gets a JSON POST per new crisis/emergency conversation ("" = none)
    alert_command: Tuple[str, ...] = ()  # program (and arguments) run with that JSON on stdin (() = none)
    nlu_file: Path = field(default=ROOT / "data" / "nlu.yml")
    domain_file: Path = field(default=ROOT / "domain.yml")

    @property
    def base_url(self) -> str:
        """The app's own address for links sent elsewhere (alerts)."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def with_(self, **changes) -> "Settings":
        return replace(self, **changes)


def _networks(env: Mapping[str, str], key: str) -> Tuple[IPNetwork, ...]:
    """Comma-separated IP addresses or networks (``10.0.0.5, 10.1.0.0/16``)."""
    raw = (env.get(key) or "").strip()
    try:
        return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in raw.split(",") if item.strip())
    except ValueError as error:
        raise ValueError(f"{key} must list IP addresses or networks: {error}") from None


def load_settings(env: Optional[Mapping[str, str]] = None) -> Settings:
    env = os.environ if env is None else env
    threshold = _float(env, "LOW_CONFIDENCE_THRESHOLD", 0.5)
    if not 0.0 <= threshold <= 1.0:
        raise ValueError("LOW_CONFIDENCE_THRESHOLD must be between 0 and 1")
    retention = _optional_int(env, "RETENTION_DAYS")
    if retention is not None and retention < 1:
        raise ValueError("RETENTION_DAYS must be at least 1")
    timezone = (env.get("REVIEW_TIMEZONE") or "UTC").strip()
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            "REVIEW_TIMEZONE must be an IANA time zone name such as Europe/London, " f"not {timezone!r}"
        ) from None
    poll = _float(env, "REVIEW_LIVE_POLL_SECONDS", 15.0)
    if poll <= 0:
        raise ValueError("REVIEW_LIVE_POLL_SECONDS must be positive")
    webhook = (env.get("REVIEW_ALERT_WEBHOOK") or "").strip()
    if webhook and not webhook.startswith(("http://", "https://")):
        raise ValueError("REVIEW_ALERT_WEBHOOK must be an http:// or https:// URL")
    public_url = (env.get("REVIEW_PUBLIC_URL") or "").strip()
    if public_url and not public_url.startswith(("http://", "https://")):
        raise ValueError("REVIEW_PUBLIC_URL must be an http:// or https:// URL")
    return Settings(
        database_url=(env.get("DATABASE_URL") or DEFAULT_DATABASE_URL).strip(),
        host=env.get("REVIEW_HOST") or "127.0.0.1",
        port=_int(env, "REVIEW_PORT", 8081),
        low_confidence_threshold=threshold,
        retention_days=retention,
        secure_cookies=_bool(env, "REVIEW_SECURE_COOKIES", True),
        redact_contact_details=_bool(env, "REDACT_CONTACT_DETAILS", True),
        session_hours=_int(env, "REVIEW_SESSION_HOURS", 8),
        session_idle_minutes=_int(env, "REVIEW_SESSION_IDLE_MINUTES", 30),
        login_max_failures=_int(env, "REVIEW_LOGIN_MAX_FAILURES", 5),
        login_window_minutes=_int(env, "REVIEW_LOGIN_WINDOW_MINUTES", 15),
        login_backoff_seconds=_float(env, "REVIEW_LOGIN_BACKOFF_SECONDS", 30.0),
        login_ip_max_failures=_int(env, "REVIEW_LOGIN_IP_MAX_FAILURES", 100),
        trusted_proxies=_networks(env, "REVIEW_TRUSTED_PROXIES"),
        page_size=_int(env, "REVIEW_PAGE_SIZE", 50),
        index_interval_seconds=_float(env, "REVIEW_INDEX_INTERVAL", 5.0),
        timezone=timezone,
        live_poll_seconds=poll,
        public_url=public_url,
        alert_webhook=webhook,
        alert_command=tuple(shlex.split(env.get("REVIEW_ALERT_COMMAND") or "")),
        nlu_file=Path(env.get("REVIEW_NLU_FILE") or ROOT / "data" / "nlu.yml"),
        domain_file=Path(env.get("REVIEW_DOMAIN_FILE") or ROOT / "domain.yml"),
    )
