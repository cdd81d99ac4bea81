"""Engines and migrations: SQLite (embedded default, WAL) and PostgreSQL."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).with_name("migrations")


class DatabaseError(Exception):
    """The database cannot be reached or used; the message is one line for the user."""


def normalise_url(url: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    try:
        if url.startswith("sqlite"):
            database = url.split("///", 1)[-1]
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, connect_args={"timeout": 30})
            event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        return create_engine(url, pool_pre_ping=True)
    except (ArgumentError, ValueError) as exc:
        raise DatabaseError(f"database.url {url!r} is not a usable SQLAlchemy URL: {exc}") from None
    except ModuleNotFoundError as exc:
        raise DatabaseError(f"database.url {url!r} needs a driver that is not installed: {exc.name}") from None


@contextmanager
def _migrations_folder() -> Iterator[Path]:
    """The migrations as a folder Alembic can read: where they are, or, when the package is imported from a
    zip (the egg a Scrapyd node runs), a copy in a temporary folder."""
    if MIGRATIONS.is_dir():
        yield MIGRATIONS
        return
    with tempfile.TemporaryDirectory(prefix="review-watch-migrations-") as folder:
        _copy_tree(resources.files(__package__) / "migrations", Path(folder))
        yield Path(folder)


def _copy_tree(source: Traversable, target: Path) -> None:
    for entry in source.iterdir():
        if entry.is_dir():
            (target / entry.name).mkdir()
            _copy_tree(entry, target / entry.name)
        elif not entry.name.endswith(".pyc"):
            with entry.open("rb") as reader, open(target / entry.name, "wb") as writer:
                shutil.copyfileobj(reader, writer)


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision`, the newest by default (idempotent)."""
    with _migrations_folder() as folder:
        _upgrade(engine, folder, revision)


def _upgrade(engine: Engine, folder: Path, revision: str) -> None:
    alembic_config = AlembicConfig()
    alembic_config.set_main_option("script_location", str(folder))
    try:
        with engine.begin() as connection:
            alembic_config.attributes["connection"] = connection
            command.upgrade(alembic_config, revision)
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseError(f"cannot open the database {engine.url.render_as_string()}: {reason}") from None


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
