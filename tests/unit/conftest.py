"""Fixtures for the service-layer unit tests: one config for the session, a fresh world per test, and no
database: making an engine fails the test."""

from __future__ import annotations

from typing import NoReturn

import pytest
import sqlalchemy
import sqlalchemy.engine

import review_watch.storage.database
from review_watch.config import Config
from tests.unit.world import World, unit_config


@pytest.fixture(autouse=True)
def no_database(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> NoReturn:
        raise AssertionError("a unit test made a database engine; use the fake unit of work")

    monkeypatch.setattr(sqlalchemy, "create_engine", refuse)
    monkeypatch.setattr(sqlalchemy.engine, "create_engine", refuse)
    monkeypatch.setattr(review_watch.storage.database, "create_engine", refuse)


@pytest.fixture(scope="session")
def config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    return unit_config(tmp_path_factory.mktemp("config"))


@pytest.fixture
def world(config: Config) -> World:
    return World(config)
