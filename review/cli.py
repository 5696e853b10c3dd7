"""Command line of the review app.

    python -m review.cli serve [--host H] [--port P]     the web app (REVIEW_HOST / REVIEW_PORT)
    python -m review.cli create-user NAME [--password-stdin]
    python -m review.cli set-password NAME [--password-stdin]
    python -m review.cli disable-user NAME
    python -m review.cli retention [--days N] [--dry-run]   (default N: RETENTION_DAYS)
    python -m review.cli export-corrections --out FILE
    python -m review.cli index [--rebuild]
    python -m review.cli audit-verify                       (exit 1 if the audit log's hash chain is broken)

All read DATABASE_URL (see review/settings.py). Output never contains patient text.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import List, Optional

from review import auth, message_index, store
from review.settings import load_settings


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise ValueError("no terminal to ask for the password: pipe it in with --password-stdin")
    try:
        first = getpass.getpass("Password (12+ characters): ")
        second = getpass.getpass("Repeat password: ")
    except (EOFError, KeyboardInterrupt):
        raise ValueError("no password given") from None
    if first != second:
        raise ValueError("the passwords do not match")
    return first


def _engine():
    settings = load_settings()
    engine = store.make_engine(settings)
    store.create_schema(engine)
    return settings, engine


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m review.cli", description="Staff review app commands.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve", help="start the web app")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    for name, text in (
        ("create-user", "create a staff account (password prompted twice; no default account)"),
        ("set-password", "set a new password for a staff account and end its sessions"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("username")
        p.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    p = sub.add_parser("disable-user", help="lock a staff account and end its sessions (set-password re-enables)")
    p.add_argument("username")
    p = sub.add_parser("retention", help="delete conversations whose last message is older than N days")
    p.add_argument("--days", type=int, default=None, help="age limit in days (default: RETENTION_DAYS)")
    p.add_argument("--dry-run", action="store_true", help="report what would be deleted, delete nothing")
    p = sub.add_parser("export-corrections", help="write staff intent corrections as Rasa NLU YAML")
    p.add_argument("--out", required=True, help="output file ('-' for stdout)")
    p = sub.add_parser(
        "index", help="fold new events into the conversation summaries and the dashboard's message index"
    )
    p.add_argument("--rebuild", action="store_true", help="recompute every summary (e.g. after changing redaction)")
    sub.add_parser(
        "audit-verify", help="prove the audit log's hash chain (exit 1 naming the first entry that breaks it)"
    )
    args = parser.parse_args(argv)

    if args.command == "serve":
        from review.app import main as serve

        serve([*(["--host", args.host] if args.host else []), *(["--port", str(args.port)] if args.port else [])])
        return 0

    settings, engine = _engine()
    try:
        if args.command == "create-user":
            auth.create_user(engine, args.username.strip().lower(), _read_password(args.password_stdin))
            print(f"created staff account {args.username.strip().lower()!r}")
        elif args.command == "set-password":
            auth.set_password(engine, args.username.strip().lower(), _read_password(args.password_stdin))
            print(f"password changed for {args.username.strip().lower()!r}; their sessions were ended")
        elif args.command == "disable-user":
            auth.disable_user(engine, args.username.strip().lower())
            print(f"disabled {args.username.strip().lower()!r}; their sessions were ended")
        elif args.command == "retention":
            days = args.days if args.days is not None else settings.retention_days
            if days is None:
                print("retention: give --days N or set RETENTION_DAYS", file=sys.stderr)
                return 2
            store.index_new_events(engine, settings)
            report = store.retention(engine, days, dry_run=args.dry_run)
            cutoff = datetime.fromtimestamp(report.cutoff, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
            verb = "would delete" if report.dry_run else "deleted"
            print(
                f"retention ({days} days, last message before {cutoff}): {verb} "
                f"{report.conversations} conversations, {report.events} events"
            )
            for table, n in report.review_rows.items():
                print(f"  {table}: {n} rows")
        elif args.command == "export-corrections":
            result = store.export_corrections(engine, settings)
            if args.out == "-":
                sys.stdout.write(result.yaml_text)
            else:
                Path(args.out).parent.mkdir(parents=True, exist_ok=True)
                Path(args.out).write_text(result.yaml_text, encoding="utf-8")
            with engine.begin() as conn:
                store.write_audit(
                    conn, "cli", "export_corrections", args.out, None, f'{{"exported": {result.exported}}}'
                )
            print(
                f"export-corrections: {result.exported} examples written to {args.out} "
                f"(skipped: {result.skipped_duplicate} duplicates, {result.skipped_in_training} already in "
                f"{settings.nlu_file.name}, {result.skipped_unsafe} payloads or texts with contact details)",
                file=sys.stderr if args.out == "-" else sys.stdout,
            )
        elif args.command == "audit-verify":
            chain = store.verify_audit_chain(engine)
            older = f", {chain.unchained} from before the chain (not verifiable)" if chain.unchained else ""
            if not chain.ok:
                print(f"audit-verify: FAILED: {chain.error} ({chain.entries} entries read{older})", file=sys.stderr)
                return 1
            print(
                f"audit-verify: ok, {chain.entries} entries{older}; chain head {chain.head or '-'} "
                "(keep it: a later run whose chain does not contain it means entries were removed from the end)"
            )
        elif args.command == "index":
            if args.rebuild:
                n = store.rebuild_index(engine, settings)
                message_index.rebuild(engine, settings)
            else:
                n = store.index_new_events(engine, settings)
                message_index.index_messages(engine, settings)
            print(f"index: {n} events folded in (up to event id {store.indexed_up_to(engine)})")
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
