"""The nginx directives that make the reverse proxy answer its own errors as the channel does.

nginx answers some requests without reaching Rasa: a body over ``client_max_body_size`` (413), a
path it does not proxy (404), every replica down (502/503/504). Its own pages are HTML, which the
widget cannot read and which carry no emergency advice. This script writes, per status, the same
JSON body the patient channel gives (``error``/``code``/``message``, see ``docs/patient-api.md``),
with the wording from ``clinic_channel/messages.yml`` and the message limit from
``credentials.yml``, so one reviewed text serves both. Usage::

    python scripts/proxy_error_pages.py [--credentials credentials.yml] >> server-block.conf

It prints, for a ``server`` block, one ``error_page`` per status pointing at a named location that
returns the body itself (no files for the worker user to read). ``scripts/run_cluster.sh`` writes
them on every start; the Compose proxy includes the committed ``deploy/nginx-errors.conf``, written
with ``--out`` and checked to be up to date with ``--check`` (tests/test_proxy_error_pages.py)::

    python scripts/proxy_error_pages.py --out deploy/nginx-errors.conf     # after a wording change
    python scripts/proxy_error_pages.py --check deploy/nginx-errors.conf   # exit 1 when out of date
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Dict

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from clinic_channel.guard import MAX_MESSAGE_CHARS  # noqa: E402  (no Rasa imports)

MESSAGES = ROOT / "clinic_channel" / "messages.yml"
PATIENT_CHANNEL = "clinic_channel.patient.PatientInput"

# status the proxy answers itself -> the channel's error code for it
CODES: Dict[int, str] = {
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    502: "not_ready",
    503: "not_ready",
    504: "not_ready",
}


def bodies(credentials: Path) -> Dict[int, dict]:
    """The JSON body per status, texts filled in as the channel fills them."""
    texts = yaml.safe_load(MESSAGES.read_text(encoding="utf-8"))
    channels = yaml.safe_load(credentials.read_text(encoding="utf-8")) or {}
    max_chars = int((channels.get(PATIENT_CHANNEL) or {}).get("max_message_chars", MAX_MESSAGE_CHARS))
    return {
        status: {"error": code, "code": code, "message": texts[code].format(max_chars=max_chars)}
        for status, code in CODES.items()
    }


def nginx_directives(credentials: Path, indent: str = "    ") -> str:
    """``error_page`` lines and their named locations, for one nginx ``server`` block."""
    lines = []
    for status, body in bodies(credentials).items():
        text = json.dumps(body, ensure_ascii=True)
        if "$" in text:  # nginx would read it as a variable; the texts have no reason to hold one
            raise ValueError(f"the {body['code']} text must not contain '$'")
        quoted = text.replace("\\", "\\\\").replace("'", "\\'")
        lines.append(f"{indent}error_page {status} @error_{status};")
        lines.append(
            f"{indent}location @error_{status} " f"{{ default_type application/json; return {status} '{quoted}'; }}"
        )
    return "\n".join(lines) + "\n"


def include_file(credentials: Path, indent: str = "") -> str:
    """The directives as a file for nginx's ``include`` inside a ``server`` block, with a header."""
    try:
        source = credentials.resolve().relative_to(ROOT)
    except ValueError:
        source = credentials
    header = (
        f"# Written by scripts/proxy_error_pages.py from clinic_channel/messages.yml and {source}: do not\n"
        "# edit; after a wording change run: python scripts/proxy_error_pages.py --out <this file>\n"
    )
    return header + nginx_directives(credentials, indent)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--credentials", type=Path, default=ROOT / "credentials.yml")
    parser.add_argument("--indent", default="    ")
    written = parser.add_mutually_exclusive_group()
    written.add_argument("--out", type=Path, help="write an include file (with a header, no indent)")
    written.add_argument("--check", type=Path, help="exit 1 when this include file is not what --out writes")
    args = parser.parse_args()
    if args.out:
        args.out.write_text(include_file(args.credentials), encoding="utf-8")
    elif args.check:
        if not args.check.is_file() or args.check.read_text(encoding="utf-8") != include_file(args.credentials):
            print(f"{args.check} is out of date: python scripts/proxy_error_pages.py --out {args.check}")
            return 1
    else:
        print(nginx_directives(args.credentials, args.indent), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
