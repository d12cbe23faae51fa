"""The schema as numbered migrations.

``MIGRATIONS[i]`` brings a database from ``user_version`` i to i + 1; a new database runs
them all. Each migration is one SQL text (``schema_NNNN.sql`` beside this module); a change
to the schema is a new file appended here, never an edit of an old one.
"""

from __future__ import annotations

import sqlite3
from importlib import resources

from newsmirror.errors import MigrationError

MIGRATION_FILES: tuple[str, ...] = (
    "schema_0001.sql",
    "schema_0002.sql",
    "schema_0003.sql",
    "schema_0004.sql",
    "schema_0005.sql",
    "schema_0006.sql",
    "schema_0007.sql",
    "schema_0008.sql",
    "schema_0009.sql",
    "schema_0010.sql",
)


def migration_sql(index: int) -> str:
    """The SQL text of migration ``index`` (0-based)."""
    return resources.files("newsmirror.store").joinpath(MIGRATION_FILES[index]).read_text("utf-8")


def latest_version() -> int:
    """The schema version a fully migrated database has."""
    return len(MIGRATION_FILES)


def migrate(db: sqlite3.Connection) -> int:
    """Apply every pending migration in one transaction each; return the new version.

    Safe with other processes opening the same database at once: each migration is
    applied under the write lock to the version read under that lock, so one process
    migrates and the others, waiting for the lock, find it done.
    """
    while (current := _version(db)) < latest_version():
        try:
            db.execute("BEGIN IMMEDIATE")  # waits for a migrating process to finish
            current = _version(db)
            if current < latest_version():
                for statement in _statements(migration_sql(current)):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {current + 1}")
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise MigrationError(f"migration {current + 1} failed: {exc}") from exc
    if current > latest_version():
        raise MigrationError(
            f"database schema version {current} is newer than this newsmirror "
            f"({latest_version()}); upgrade newsmirror"
        )
    return latest_version()


def _version(db: sqlite3.Connection) -> int:
    cursor = db.cursor()
    cursor.row_factory = sqlite3.Row
    return int(cursor.execute("PRAGMA user_version").fetchone()["user_version"])


def _statements(sql: str) -> list[str]:
    """Split a migration into statements (our files have no ';' inside strings)."""
    lines = [line.split("--", 1)[0] for line in sql.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
