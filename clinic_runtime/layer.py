"""Install, check and undo the runtime patches (see the package docstring for the list)."""

from __future__ import annotations

import importlib
import logging
import os
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

logger = logging.getLogger("clinic_runtime")

RASA_VERSION = "3.6.21"  # the Rasa release every patch was written and tested against
PATCHES_ENV = "CLINIC_RASA_PATCHES"  # "off" (or 0/false/no): plain Rasa
DEFAULT_ACTION_TIMEOUT = 10.0  # seconds; the patient channel's ``action_timeout`` overrides it
_OFF = {"off", "0", "false", "no"}


@dataclass(frozen=True)
class Patch:
    """One change to Rasa: the attributes it replaces (``module:Object.attr`` or ``module:attr``),
    so that :func:`uninstall` can put Rasa's own back, and the function that applies it."""

    name: str
    targets: Tuple[str, ...]
    apply: Callable[["_Options"], None]


@dataclass(frozen=True)
class _Options:
    action_timeout: Optional[float]  # None: keep the one set before (the default on the first install)
    safe_reply: Optional[str]  # None: keep the one set before (none: Rasa's behaviour)


def _action_timeout(options: _Options) -> None:
    from clinic_runtime.action_calls import set_action_timeout

    if options.action_timeout is not None:
        set_action_timeout(options.action_timeout)
    elif "action_timeout" not in _installed:
        set_action_timeout(DEFAULT_ACTION_TIMEOUT)


def _safe_reply(options: _Options) -> None:
    from clinic_runtime.action_failures import install

    if options.safe_reply is not None:
        install(options.safe_reply)


def _call(module: str, function: str = "install") -> Callable[[_Options], None]:
    def apply(_options: _Options) -> None:
        getattr(importlib.import_module(module), function)()

    return apply


PATCHES: Tuple[Patch, ...] = (
    Patch("action_timeout", ("rasa.core.actions.action:DEFAULT_REQUEST_TIMEOUT",), _action_timeout),
    Patch("safe_reply", ("rasa.core.processor:MessageProcessor._run_action",), _safe_reply),
    Patch(
        "cached_validation",
        ("rasa.core.actions.action:RemoteAction._validate_action_result",),
        _call("clinic_runtime.action_calls", "install_cached_validation"),
    ),
    Patch(
        "short_action_calls",
        ("rasa.core.actions.action:RemoteAction._action_call_format",),
        _call("clinic_runtime.action_calls", "install_short_action_calls"),
    ),
    Patch(
        "kept_alive_requests",
        ("rasa.utils.endpoints:EndpointConfig.session", "rasa.utils.endpoints:EndpointConfig.request"),
        _call("clinic_runtime.action_calls", "install_kept_alive_requests"),
    ),
    Patch("sequential_runner", ("rasa.core.processor:DaskGraphRunner",), _call("clinic_runtime.graph_runner")),
    Patch(
        "tracker_speedups",
        (
            "rasa.shared.core.trackers:DialogueStateTracker.copy",
            "rasa.shared.core.trackers:DialogueStateTracker.applied_events",
        ),
        _call("clinic_runtime.tracker_speedups"),
    ),
    Patch(
        "parse_offload",
        ("rasa.core.processor:MessageProcessor.parse_message", "rasa.core.processor:MessageProcessor.handle_message"),
        _call("clinic_runtime.parse_offload"),
    ),
    Patch(
        "event_lookup",
        ("rasa.shared.core.events:Event.resolve_by_type",),
        _call("clinic_runtime.event_lookup", "install_fast_event_lookup"),
    ),
)

_saved: Dict[str, Any] = {}  # target -> Rasa's own value, while installed
_installed: List[str] = []


def patch_names() -> List[str]:
    """Every patch the layer knows, in install order."""
    return [patch.name for patch in PATCHES]


def installed() -> List[str]:
    """The patches installed in this process now."""
    return list(_installed)


def _owner_and_attribute(target: str) -> Tuple[Any, str]:
    module_name, _, path = target.partition(":")
    owner: Any = importlib.import_module(module_name)
    *parents, attribute = path.split(".")
    for parent in parents:
        owner = getattr(owner, parent)
    return owner, attribute


def _read(target: str) -> Any:
    owner, attribute = _owner_and_attribute(target)
    if isinstance(owner, type) and attribute in owner.__dict__:
        return owner.__dict__[attribute]  # as stored: a staticmethod stays one
    return getattr(owner, attribute)


def _write(target: str, value: Any) -> None:
    owner, attribute = _owner_and_attribute(target)
    setattr(owner, attribute, value)


def switched_off(env: Optional[Mapping[str, str]] = None) -> bool:
    """True when ``CLINIC_RASA_PATCHES`` asks for plain Rasa."""
    env = os.environ if env is None else env
    return (env.get(PATCHES_ENV) or "on").strip().lower() in _OFF


def install(
    action_timeout: Optional[float] = None,
    safe_reply: Optional[str] = None,
    env: Optional[Mapping[str, str]] = None,
    rasa_version: Optional[str] = None,
) -> List[str]:
    """Install every patch not yet installed (idempotent). ``action_timeout`` and ``safe_reply``,
    when given, replace the ones set before: the patient channel's configuration wins over the
    entry point's defaults, and a channel that gives none leaves them as they are.
    Returns the patches now installed: none when switched off or on another Rasa version."""
    if switched_off(env):
        if not _installed:
            logger.warning(
                "clinic_runtime: %s=off: plain Rasa %s, no runtime patches (slower, same answers)",
                PATCHES_ENV,
                rasa_version or _rasa_version(),
            )
        return []
    found = rasa_version or _rasa_version()
    if found != RASA_VERSION:
        logger.error(
            "clinic_runtime: written for Rasa %s, found Rasa %s: no runtime patches installed "
            "(plain Rasa; check each patch against the new version before changing RASA_VERSION)",
            RASA_VERSION,
            found,
        )
        return []
    options = _Options(None if action_timeout is None else float(action_timeout), safe_reply)
    for patch in PATCHES:
        first_time = patch.name not in _installed
        if first_time:
            for target in patch.targets:
                _saved[target] = _read(target)
        patch.apply(options)
        if first_time:
            _installed.append(patch.name)
            logger.info("clinic_runtime: installed %s", patch.name)
    return installed()


def uninstall() -> None:
    """Put Rasa's own attributes back (tests that compare patched and plain Rasa)."""
    for target, value in _saved.items():
        _write(target, value)
    _saved.clear()
    _installed.clear()


def _rasa_version() -> str:
    import rasa

    return str(rasa.__version__)
