"""Retries that wait: exponential backoff, and the server's Retry-After where it sends one."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Request, Response
from scrapy.settings import BaseSettings
from scrapy.utils.defer import deferred_to_future
from twisted.internet import reactor, task


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's RetryMiddleware, waiting before each retry instead of retrying at once.

    The wait is the response's Retry-After (seconds or an HTTP date) when present, capped at
    RETRY_AFTER_MAX; otherwise RETRY_BACKOFF_BASE * 2**(retries so far), capped at RETRY_BACKOFF_MAX.
    Other requests go on while one waits.
    """

    def __init__(self, settings: BaseSettings):
        super().__init__(settings)
        self.backoff_base = settings.getfloat("RETRY_BACKOFF_BASE", 1.0)
        self.backoff_max = settings.getfloat("RETRY_BACKOFF_MAX", 60.0)
        self.retry_after_max = settings.getfloat("RETRY_AFTER_MAX", 300.0)

    async def process_response(  # type: ignore[override]
        self, request: Request, response: Response
    ) -> Request | Response:
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        retry = self._retry(request, f"HTTP {response.status}")
        if retry is None:
            return response
        await self._wait(self._delay(request, response))
        return retry

    async def process_exception(  # type: ignore[override]
        self, request: Request, exception: Exception
    ) -> Request | Response | None:
        if request.meta.get("dont_retry", False) or not isinstance(exception, self.exceptions_to_retry):
            return None
        retry = self._retry(request, exception)
        if retry is not None:
            await self._wait(self._delay(request, None))
        return retry

    def _delay(self, request: Request, response: Response | None) -> float:
        if response is not None:
            header = response.headers.get("Retry-After")
            after = retry_after_seconds(header.decode("latin-1")) if header else None
            if after is not None:
                return min(after, self.retry_after_max)
        retries = int(request.meta.get("retry_times", 0))
        return float(min(self.backoff_base * 2**retries, self.backoff_max))

    @staticmethod
    async def _wait(seconds: float) -> None:
        if seconds > 0:
            await deferred_to_future(task.deferLater(reactor, seconds, lambda: None))


def retry_after_seconds(value: str, now: datetime | None = None) -> float | None:
    """Seconds to wait for a Retry-After value: delta-seconds or an HTTP date; None when unreadable."""
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
