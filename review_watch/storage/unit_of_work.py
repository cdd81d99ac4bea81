"""A unit of work over a SQLAlchemy session: one transaction, committed explicitly or rolled back.

`AbstractUnitOfWork` is what the case and triage services ask for: a repository, commit and rollback.
`UnitOfWork` is the real one; tests/support/fakes.py has one that keeps rows in memory.
"""

from __future__ import annotations

from types import TracebackType
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from review_watch.storage.repository import Repository, SqlAlchemyRepository


class AbstractUnitOfWork(Protocol):
    @property
    def repo(self) -> Repository: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


class UnitOfWork:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._session: Session | None = None
        self._repo: SqlAlchemyRepository | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("the unit of work is used outside its `with` block")
        return self._session

    @property
    def repo(self) -> Repository:
        if self._repo is None or self._repo.session is not self.session:
            self._repo = SqlAlchemyRepository(self.session)
        return self._repo

    def __enter__(self) -> UnitOfWork:
        self._session = self._sessions()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.session.close()  # rolls back what was not committed; loaded objects stay readable, detached
        self._session = None
        self._repo = None

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()
