"""A small world for the service-layer unit tests: a config, a manual clock and a fake unit of work, with
builders for staff and stored mentions. No database, no model."""

from __future__ import annotations

import itertools
from datetime import datetime
from pathlib import Path

from review_watch.config import Config, load_config
from review_watch.storage.orm import Brand, Case, Mention, SentimentResult, Staff
from tests.support.configs import write_config
from tests.support.fakes import FakeRepository, FakeUnitOfWork, ManualClock

LEVELS = """
[[sla.escalation]]

[[sla.escalation]]
after = "4 business hours"
leads = ["Lena"]
"""


def unit_config(directory: Path) -> Config:
    """The test config (Stockholm hours, 1 business day to respond, reminder at 75%) with two escalation
    levels: every lead of the brand at the deadline, Lena four business hours later. Its database is never
    opened."""
    path = write_config(directory, database_url="sqlite:///never-opened.db")
    text = path.read_text().replace('remind_at = 0.75\n', 'remind_at = 0.75\n' + LEVELS)
    path.write_text(text)
    return load_config(path)


class World:
    def __init__(self, config: Config, clock: ManualClock | None = None) -> None:
        self.config = config
        self.clock = clock or ManualClock()
        self.uow = FakeUnitOfWork()
        self.repo: FakeRepository = self.uow.repo
        self._telegram_ids = itertools.count(1001)
        self._mention_ids = itertools.count(1)
        for id_, name in ((1, "Acme"), (2, "Globex")):
            self.repo.add(Brand(id=id_, name=name))

    def hire(self, name: str, role: str = "agent", languages: tuple[str, ...] = ("en",),
             brands: list[str] | None = None, calendar: str | None = None) -> Staff:
        telegram_id = next(self._telegram_ids)
        member = Staff(name=name, telegram_id=telegram_id, chat_id=telegram_id, role=role,
                       languages=list(languages), brands=brands, calendar=calendar, locale="en", active=True,
                       reachable=True, muted=False, invited=False)
        self.repo.add(member)
        return member

    def mention(self, text: str, *, language: str = "en", brand: str | None = "Acme", author_id: int | None = None,
                negative: bool | None = True, unsure: bool = False, arrived_at: datetime | None = None) -> Mention:
        """A stored mention; `negative=None` leaves it unjudged (for the classifier)."""
        brand_row = next((b for b in self.repo.brands if b.name == brand), None)
        id_ = next(self._mention_ids)
        mention = Mention(id=id_, source_id=1, external_id=f"review-{id_}",
                          brand_id=brand_row.id if brand_row else None, author_id=author_id,
                          url=f"https://reviews.example/{id_}", rating=None, rating_max=None,
                          title=None, text=text, language=language, content_hash=f"hash-{id_}",
                          duplicate_of_id=None, raw={}, arrived_at=arrived_at or self.clock(), updated_at=None,
                          edit_count=0)
        self.repo.add(mention)
        if negative is not None:
            self.repo.add(SentimentResult(
                mention_id=id_, label="negative" if negative else "positive", score=0.9, negative=negative,
                language=language, churn_intent=False, competitor=None, threat=False, staff_abuse=False,
                unsure=unsure, model="fake", classified_at=self.clock()))
        return mention

    def case(self, case_id: int) -> Case:
        case = self.repo.case(case_id)
        assert case is not None
        return case

    def assignee(self, case_id: int) -> str | None:
        case = self.case(case_id)
        member = self.repo.staff(case.assignee_id) if case.assignee_id is not None else None
        return member.name if member else None

    def event_kinds(self, case_id: int) -> list[str]:
        return [e.kind for e in self.repo.events_of(case_id)]
