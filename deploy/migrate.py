"""Create the database tables before the servers start: Rasa's ``events`` table (the tracker store)
and the review app's ``review_*`` tables. Idempotent (missing tables only), so a deployment runs it
on every release: the Compose ``migrate`` service, the Kubernetes ``migrate`` Job.

    DATABASE_URL=postgresql://... python deploy/migrate.py          # create what is missing
    DATABASE_URL=postgresql://... python deploy/migrate.py --wait   # only wait until it exists

Several Rasa replicas starting together would otherwise each try to create ``events`` at once; with
``--wait`` (the pods' init containers) they create nothing and start once the Job has run.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path
from typing import List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

log = logging.getLogger("deploy.migrate")


def migrate(database_url: str) -> None:
    """Create every missing table of the tracker store and the review app in ``database_url``."""
    import sqlalchemy as sa
    from rasa.core.tracker_store import SQLTrackerStore

    from review import store

    SQLTrackerStore(host=database_url).engine.dispose()  # creates the events table if missing
    engine = sa.create_engine(database_url)
    try:
        store.create_schema(engine)
    finally:
        engine.dispose()


def tables_ready(database_url: str) -> bool:
    """True when the tracker store's and the review app's tables all exist in ``database_url``."""
    import sqlalchemy as sa

    from review import store

    engine = sa.create_engine(database_url)
    try:
        present = set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()
    return {"events", *store.metadata.tables} <= present


def main(argv: Optional[List[str]] = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        log.error("DATABASE_URL is not set")
        return 2
    wait_only = "--wait" in (sys.argv[1:] if argv is None else argv)
    deadline = time.monotonic() + float(os.environ.get("MIGRATE_WAIT_SECONDS", "600" if wait_only else "120"))
    while True:  # the database may still be starting (a Job has no depends_on)
        try:
            if not wait_only:
                migrate(url)
                break
            if tables_ready(url):
                break
            raise LookupError("tables not created yet")
        except Exception as error:  # noqa: BLE001 - reported by type only; retried until the deadline
            if time.monotonic() > deadline:
                log.error("migrate failed: %s", type(error).__name__)
                return 1
            log.info("database not ready (%s); retrying", type(error).__name__)
            time.sleep(2)
    log.info("migrate: tables ready")
    return 0


if __name__ == "__main__":
    sys.exit(main())
