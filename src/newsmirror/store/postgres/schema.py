"""The PostgreSQL store's schema as numbered migrations of its own.

``MIGRATIONS[i]`` brings a database from version i to i + 1 (the version is kept in the
table ``newsmirror_schema``); a new database runs them all. Each migration is one SQL text
(``schema_NNNN.sql`` beside this module), applied in one transaction: PostgreSQL's DDL is
transactional, so a migration is applied whole or not at all. A change to the schema is a
new file appended here, never an edit of an old one.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import psycopg

from newsmirror.errors import MigrationError

MIGRATION_FILES: tuple[str, ...] = ("schema_0001.sql",)
#: The advisory lock migrations are applied under (any number, the same in every process).
_LOCK = 7_310_019


def migration_sql(index: int) -> str:
    """The SQL text of migration ``index`` (0-based)."""
    folder = resources.files("newsmirror.store.postgres")
    return folder.joinpath(MIGRATION_FILES[index]).read_text("utf-8")


def latest_version() -> int:
    """The schema version a fully migrated database has."""
    return len(MIGRATION_FILES)


def migrate(db: psycopg.Connection[Any]) -> int:
    """Apply every pending migration, each in one transaction; the new version.

    Safe with other processes opening the same database at once: each is applied under
    an advisory lock, to the version read under that lock, so one process migrates and
    the others, waiting for the lock, find it done.
    """
    current = 0
    try:
        while True:
            with db.transaction():
                db.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
                db.execute("CREATE TABLE IF NOT EXISTS newsmirror_schema (version INTEGER)")
                row = db.execute("SELECT max(version) FROM newsmirror_schema").fetchone()
                current = int(row[0] or 0) if row else 0
                if current >= latest_version():
                    break
                db.execute(migration_sql(current).encode())
                db.execute("INSERT INTO newsmirror_schema (version) VALUES (%s)", (current + 1,))
    except psycopg.Error as exc:
        raise MigrationError(f"migration {current + 1} failed: {exc}") from exc
    if current > latest_version():
        raise MigrationError(
            f"database schema version {current} is newer than this newsmirror "
            f"({latest_version()}); upgrade newsmirror"
        )
    return latest_version()
