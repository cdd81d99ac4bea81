"""The leads' digests: at the configured local time on each lead's calendar, each lead gets the report of each
brand they cover (services/report) as a message and a chart, through the outbox; each digest once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from review_watch.config import Config
from review_watch.domain.brand_matching import covers_brand
from review_watch.domain.digest_schedule import DigestPeriod, due_period
from review_watch.domain.permissions import is_lead
from review_watch.services.report import brand_report, report_dict
from review_watch.services.triage import queue_message
from review_watch.storage.orm import Brand, Staff
from review_watch.storage.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class QueuedDigest:
    lead: str
    brand: str
    kind: str
    local_day: str


def queue_due_digests(uow: UnitOfWork, config: Config, now: datetime) -> list[QueuedDigest]:
    """Queue every digest due now that was not queued before (the scheduler calls this every tick)."""
    schedules = config.leads.digest_schedules
    if not schedules:
        return []
    brands = list(uow.session.execute(select(Brand.id, Brand.name).order_by(Brand.name)))
    leads = [member for member in uow.session.scalars(select(Staff).where(Staff.active.is_(True))
                                                      .order_by(Staff.name)) if is_lead(member.role)]
    reports: dict[tuple[int, DigestPeriod], dict[str, object]] = {}
    queued = []
    for lead in leads:
        zone = config.calendar(lead.calendar).timezone if lead.calendar else config.calendar().timezone
        for schedule in schedules:
            period = due_period(schedule, zone, now, config.leads.digest_catch_up_delta)
            if period is None:
                continue
            for brand_id, brand in brands:
                if not covers_brand(lead.brands, brand):
                    continue
                key = f"digest:{period.kind.value}:{brand_id}:{period.local_day.isoformat()}:{lead.id}"
                if uow.repo.outbox_key_used(key):
                    continue
                if (brand_id, period) not in reports:
                    reports[(brand_id, period)] = {
                        **report_dict(brand_report(uow, config, brand, period.start, period.end)),
                        "digest": period.kind.value, "local_day": period.local_day.isoformat()}
                payload = reports[(brand_id, period)]
                queue_message(uow, kind="digest", dedupe_key=key, staff_id=lead.id, case_id=None, now=now,
                              payload=payload)
                queue_message(uow, kind="digest_chart", dedupe_key=f"{key}:chart", staff_id=lead.id, case_id=None,
                              now=now, payload=payload)
                queued.append(QueuedDigest(lead.name, brand, period.kind.value, period.local_day.isoformat()))
    uow.commit()
    return queued
