"""Locks and leases: file locks on one machine (SQLite), the database's on PostgreSQL, where processes on
different machines share them and a dead holder's lock or lease passes on."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine

from review_watch.storage.coordination import FileCoordination, PostgresCoordination, coordination_for
from review_watch.storage.database import make_engine, migrate
from tests.conftest import REPO

HOLD_SOURCE = """
import sys, time
from review_watch.storage.coordination import coordination_for
from review_watch.storage.database import make_engine
from pathlib import Path
with coordination_for(make_engine(sys.argv[1]), Path(sys.argv[2])).source_locks(["acme"]) as (locked, busy):
    print("locked" if locked else "busy", flush=True)
    time.sleep(600)
"""


def engine_for(database_url: str) -> Engine:
    engine = make_engine(database_url)
    migrate(engine)
    return engine


def test_sqlite_keeps_file_locks_and_postgresql_uses_the_database(database_url: str, tmp_path: Path) -> None:
    engine = engine_for(database_url)
    chosen = coordination_for(engine, tmp_path / "locks")
    expected = PostgresCoordination if engine.dialect.name == "postgresql" else FileCoordination
    assert isinstance(chosen, expected)
    engine.dispose()


def test_a_source_locked_elsewhere_is_busy_until_its_holder_is_killed(database_url: str, tmp_path: Path) -> None:
    """The holder is another process with its own lock folder, as on another machine: on PostgreSQL it still
    keeps this one off the source, and when it is killed the source is free at once."""
    engine = engine_for(database_url)
    if engine.dialect.name != "postgresql":
        pytest.skip("separate lock folders share nothing without a shared database")
    holder = subprocess.Popen([sys.executable, "-c", HOLD_SOURCE, database_url, str(tmp_path / "machine-a")],
                              cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        here = coordination_for(engine, tmp_path / "machine-b")
        with here.source_locks(["acme", "other"]) as (locked, busy):
            assert (locked, busy) == (["other"], ["acme"])
        holder.kill()
        holder.wait()
        deadline = time.monotonic() + 10
        while True:
            with here.source_locks(["acme"]) as (locked, _):
                if locked == ["acme"]:
                    break
            assert time.monotonic() < deadline, "the killed holder's lock was never freed"
            time.sleep(0.1)
    finally:
        holder.kill()
        holder.wait()
    engine.dispose()


def test_locks_are_freed_when_their_block_ends(database_url: str, tmp_path: Path) -> None:
    engine = engine_for(database_url)
    first = coordination_for(engine, tmp_path / "locks")
    second = coordination_for(make_engine(database_url), tmp_path / "locks")
    with first.source_locks(["acme"]) as (locked, _):
        assert locked == ["acme"]
        with second.source_locks(["acme"]) as (_, busy):
            assert busy == ["acme"]
    with second.source_locks(["acme"]) as (locked, _):
        assert locked == ["acme"]
    with first.triage_lock(), first.source_locks(["acme"]) as (locked, _):
        assert locked == ["acme"]  # the triage lock is a lock of its own
    engine.dispose()


def test_a_lease_is_held_by_one_and_taken_over_once_it_lapses(database_url: str, tmp_path: Path) -> None:
    engine = engine_for(database_url)
    if engine.dialect.name != "postgresql":
        pytest.skip("on one machine a lease is a file lock, held until released (test below)")
    leader = coordination_for(engine, tmp_path).lease("bot", seconds=1.0)
    other = coordination_for(make_engine(database_url), tmp_path).lease("bot", seconds=1.0)
    assert leader.hold() and leader.held()
    assert not other.hold() and not other.held()
    assert leader.hold()  # renewed
    time.sleep(1.2)  # the leader stops renewing, as a killed or stalled process does
    assert not leader.held()
    assert other.hold() and other.held()
    assert not leader.hold()
    other.release()
    assert leader.hold()
    engine.dispose()


def test_a_file_lease_is_held_until_released(tmp_path: Path) -> None:
    leader = FileCoordination(tmp_path).lease("bot", seconds=1.0)
    other = FileCoordination(tmp_path).lease("bot", seconds=1.0)
    assert leader.hold() and not other.hold()
    time.sleep(0.1)
    assert leader.held() and leader.hold()
    leader.release()
    assert not leader.held() and other.hold()
    other.release()
