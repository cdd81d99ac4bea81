"""What keeps two processes off the same work: the per-source crawl locks, the triage lock and leases.

On one machine (SQLite) they are file locks in a folder, as they always were. On PostgreSQL they live in the
database, so that processes on different machines see them: the crawl and triage locks are session-level
advisory locks (released by the server when the holding connection ends, a killed process included), and a
lease is a row with an expiry (`leases`) that its holder renews and anyone may take once it has lapsed.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import socket
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path
from typing import IO, Protocol

from sqlalchemy import Connection, Engine, text


class Lease(Protocol):
    """Held by one process at a time; `hold` takes or renews it, `held` says whether it is still ours."""

    holder: str
    seconds: float

    def hold(self) -> bool:
        """Take the lease, or renew it if ours; True when this process holds it now."""

    def held(self) -> bool:
        """Whether the lease is still ours, counting from the last successful `hold` (no database call)."""

    def release(self) -> None:
        """Give the lease up at once, so that another process need not wait for it to lapse."""


class Coordination(Protocol):
    def source_locks(self, names: Sequence[str]) -> AbstractContextManager[tuple[list[str], list[str]]]:
        """Non-blocking, one per source: yields (locked, busy)."""

    def triage_lock(self) -> AbstractContextManager[None]:
        """One triage (the routing part) at a time; waits for the other."""

    def setup_lock(self) -> AbstractContextManager[None]:
        """One process at a time migrates the database and makes it match the config; waits for the other."""

    def lease(self, name: str, seconds: float) -> Lease: ...


def holder_name() -> str:
    """This process, as other processes see it in a lease: host, process id and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def lock_directory(database_url: str, configured: str | None) -> Path:
    """The folder of file locks: `crawl.lock_file` when set, else one in the temp dir per database."""
    if configured:
        return Path(configured)
    digest = hashlib.sha256(database_url.encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"review-watch-locks-{digest}"


class FileCoordination:
    """Locks as files in one folder: enough when every process runs on one machine."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @contextmanager
    def source_locks(self, names: Sequence[str]) -> Iterator[tuple[list[str], list[str]]]:
        """Take a non-blocking lock per source; yields (locked, busy). Locks die with the process."""
        self.directory.mkdir(parents=True, exist_ok=True)
        locked: list[str] = []
        busy: list[str] = []
        with ExitStack() as stack:
            for name in names:
                handle: IO[str] = stack.enter_context(open(self.directory / f"{name}.lock", "w"))  # noqa: SIM115
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    busy.append(name)
                    continue
                locked.append(name)
            yield locked, busy

    @contextmanager
    def triage_lock(self) -> Iterator[None]:
        """One triage at a time; waits for the other run's (it is short), unlike the per-source locks."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / "triage.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield

    @contextmanager
    def setup_lock(self) -> Iterator[None]:
        yield  # one machine: SQLite's own write lock orders the processes

    def lease(self, name: str, seconds: float) -> FileLease:
        return FileLease(self.directory / f"{name}.lease", seconds)


class FileLease:
    """A lease on one machine: a file lock held until released or until the process ends."""

    def __init__(self, path: Path, seconds: float) -> None:
        self.path = path
        self.seconds = seconds
        self.holder = holder_name()
        self._handle: IO[str] | None = None

    def hold(self) -> bool:
        if self._handle is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "w")  # noqa: SIM115 - kept open while the lease is held
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._handle = handle
        return True

    def held(self) -> bool:
        return self._handle is not None

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def _advisory_key(name: str) -> int:
    """A 64-bit advisory lock key for a lock name (signed, as PostgreSQL's bigint)."""
    digest = hashlib.blake2b(f"review-watch:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class PostgresCoordination:
    """Locks and leases in PostgreSQL, shared by every machine that uses the database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        """A connection of its own, outside any transaction; its advisory locks are unlocked before it goes
        back to the pool (and the connection is dropped if that fails)."""
        connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            yield connection
            connection.execute(text("SELECT pg_advisory_unlock_all()"))
        except BaseException:
            connection.invalidate()
            raise
        finally:
            connection.close()

    @contextmanager
    def source_locks(self, names: Sequence[str]) -> Iterator[tuple[list[str], list[str]]]:
        """Take a non-blocking advisory lock per source; yields (locked, busy). The server frees them when this
        process's connection ends, however it ends."""
        with self._connection() as connection:
            locked: list[str] = []
            busy: list[str] = []
            for name in names:
                taken = connection.scalar(text("SELECT pg_try_advisory_lock(:key)"),
                                          {"key": _advisory_key(f"source:{name}")})
                (locked if taken else busy).append(name)
            yield locked, busy

    @contextmanager
    def triage_lock(self) -> Iterator[None]:
        with self._waiting_lock("triage"):
            yield

    @contextmanager
    def setup_lock(self) -> Iterator[None]:
        with self._waiting_lock("setup"):
            yield

    @contextmanager
    def _waiting_lock(self, name: str) -> Iterator[None]:
        with self._connection() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _advisory_key(name)})
            yield

    def lease(self, name: str, seconds: float) -> PostgresLease:
        return PostgresLease(self.engine, name, seconds)


class PostgresLease:
    """A row in `leases`: its holder renews it well before `expires_at`; once that has passed by the
    database's clock (so machines' clocks need not agree), the next `hold` of another process takes it."""

    _TAKE = text(
        "INSERT INTO leases (name, holder, expires_at) "
        "VALUES (:name, :holder, clock_timestamp() + make_interval(secs => :seconds)) "
        "ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at "
        "WHERE leases.holder = EXCLUDED.holder OR leases.expires_at < clock_timestamp() "
        "RETURNING holder")
    _RELEASE = text("DELETE FROM leases WHERE name = :name AND holder = :holder")

    def __init__(self, engine: Engine, name: str, seconds: float) -> None:
        self.engine = engine
        self.name = name
        self.seconds = seconds
        self.holder = holder_name()
        self._valid_until = 0.0  # monotonic; the lease lapses at the database no earlier than this

    def hold(self) -> bool:
        asked_at = time.monotonic()
        with self.engine.begin() as connection:
            taken = connection.scalar(self._TAKE, {"name": self.name, "holder": self.holder,
                                                   "seconds": self.seconds}) is not None
        self._valid_until = asked_at + self.seconds if taken else 0.0
        return taken

    def held(self) -> bool:
        return time.monotonic() < self._valid_until

    def release(self) -> None:
        self._valid_until = 0.0
        with self.engine.begin() as connection:
            connection.execute(self._RELEASE, {"name": self.name, "holder": self.holder})


def coordination_for(engine: Engine, lock_folder: Path) -> FileCoordination | PostgresCoordination:
    """Database locks on PostgreSQL, file locks in `lock_folder` otherwise."""
    if engine.dialect.name == "postgresql":
        return PostgresCoordination(engine)
    return FileCoordination(lock_folder)
