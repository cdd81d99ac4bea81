"""Bot replicas: one at a time sends and schedules, the one holding the sending lease.

The holder renews the lease every `renew_every` seconds; the others try to take it as often. A holder that
is killed stops renewing, its lease lapses, and another replica takes it and starts what the holder ran (the
outbox sender, the scheduler's tick and, without a webhook, long polling). On one machine the lease is a file
lock, so a single `review-watch bot` holds it from its first moment, as before.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from review_watch.storage.coordination import Lease

log = logging.getLogger(__name__)

LEASE_SECONDS = 6.0  # a killed holder's lease lapses this long after its last renewal
RENEW_EVERY = 1.5


async def lead_while_holding(lease: Lease, start: Callable[[], Awaitable[None]], stop: Callable[[], Awaitable[None]],
                             renew_every: float = RENEW_EVERY) -> None:
    """Run `start` when this replica takes the lease and `stop` when it loses it, until cancelled; then stop
    and give the lease up at once, so that another replica need not wait for it to lapse."""
    leading = False
    try:
        while True:
            try:
                held = await asyncio.to_thread(lease.hold)
            except Exception as exc:  # noqa: BLE001 - the database is away: this replica may not lead meanwhile
                log.error("cannot renew the sending lease: %s: %s", type(exc).__name__, exc)
                held = lease.held()
            if held and not leading:
                log.info("this replica holds the sending lease (%s): sending and scheduling", lease.holder)
                leading = True
                await start()
            elif not held and leading:
                log.warning("the sending lease was lost: this replica stops sending and scheduling")
                leading = False
                await stop()
            await asyncio.sleep(renew_every)
    finally:
        if leading:
            await stop()
        try:
            await asyncio.to_thread(lease.release)
        except Exception as exc:  # noqa: BLE001 - it lapses by itself
            log.warning("cannot release the sending lease: %s", exc)
