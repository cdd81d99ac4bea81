"""Wires the adapters together once per process: config, database, clock, classifier."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from replies.registry import ConnectorSet, connectors_from_config
from review_watch.clock import Clock, system_clock
from review_watch.config import Config
from review_watch.services.ingest import sync_config
from review_watch.storage.coordination import Coordination, Lease, coordination_for, lock_directory
from review_watch.storage.database import make_engine, migrate, session_factory
from review_watch.storage.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from sentiment import SentimentClassifier


@dataclass
class App:
    config: Config
    clock: Clock = field(default=system_clock)

    @cached_property
    def engine(self) -> Engine:
        engine = make_engine(self.config.database.url)
        with self._coordination_of(engine).setup_lock():  # processes started at once migrate one by one
            migrate(engine)
        return engine

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        sessions = session_factory(self.engine)
        with self.coordination.setup_lock(), UnitOfWork(sessions) as uow:
            sync_config(uow, self.config)
        return sessions

    @cached_property
    def coordination(self) -> Coordination:
        """The crawl and triage locks and the leases: in PostgreSQL when the database is, else files."""
        return self._coordination_of(self.engine)

    def _coordination_of(self, engine: Engine) -> Coordination:
        return coordination_for(engine, lock_directory(self.config.database.url, self.config.crawl.lock_file))

    def lease(self, name: str, seconds: float) -> Lease:
        return self.coordination.lease(name, seconds)

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self.sessions)

    @cached_property
    def classifier(self) -> SentimentClassifier:
        from sentiment import load_classifier  # torch loads only for the commands that classify

        settings = self.config.sentiment
        return load_classifier(
            settings.model, threshold=settings.threshold, competitors=settings.competitors,
            precision=settings.precision, unsure_band=settings.unsure_band, weak_languages=settings.weak_languages,
        )

    @cached_property
    def connectors(self) -> ConnectorSet:
        """Each source's reply connector, built on first use from its [sources.reply]."""
        return connectors_from_config(self.config)
