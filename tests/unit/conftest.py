"""Fixtures for the service-layer unit tests: one config for the module, a fresh world per test."""

from __future__ import annotations

import pytest

from review_watch.config import Config
from tests.unit.world import World, unit_config


@pytest.fixture(scope="session")
def config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    return unit_config(tmp_path_factory.mktemp("config"))


@pytest.fixture
def world(config: Config) -> World:
    return World(config)
