"""The stand-in refuses the photos Telegram refuses (sendPhoto: at most 10 MB, width + height at most 10000,
a side ratio of at most 20, an image at all) and takes the digest's chart."""

from __future__ import annotations

import struct
import zlib
from collections.abc import AsyncIterator

import pytest
import telegram
from telegram.error import BadRequest

from bot.digest import digest_chart
from tests.telegram_standin.runner import ControlClient

USER = 777


def png_header(width: int, height: int, padding: int = 0) -> bytes:
    """A PNG's signature and header chunk (what the size is read from), then `padding` bytes."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(header)) + b"IHDR" + header + struct.pack(">I", zlib.crc32(b"IHDR" + header))
    return b"\x89PNG\r\n\x1a\n" + chunk + b"\x00" * padding


@pytest.fixture
async def bot(telegram_standin: ControlClient) -> AsyncIterator[telegram.Bot]:
    telegram_standin.add_user(USER, "Lena")
    async with telegram.Bot(telegram_standin.token, base_url=telegram_standin.base_url) as client:
        yield client


@pytest.mark.parametrize(("photo", "error"), [
    (b"%PDF-1.7 not a picture", "IMAGE_PROCESS_FAILED"),
    (png_header(9000, 1001), "PHOTO_INVALID_DIMENSIONS"),
    (png_header(2100, 100), "PHOTO_INVALID_DIMENSIONS"),
    (png_header(0, 10), "PHOTO_INVALID_DIMENSIONS"),
    (png_header(100, 100, padding=10 * 1024 * 1024), "PHOTO_SAVE_FILE_INVALID"),
])
async def test_refused_photos(bot: telegram.Bot, telegram_standin: ControlClient, photo: bytes, error: str) -> None:
    with pytest.raises(BadRequest, match=f"(?i){error}"):
        await bot.send_photo(USER, photo)
    assert [r["description"] for r in telegram_standin.rejections()] == [f"Bad Request: {error}"]
    assert telegram_standin.messages(USER) == []


async def test_limits_themselves_are_accepted(bot: telegram.Bot, telegram_standin: ControlClient) -> None:
    await bot.send_photo(USER, png_header(9000, 1000))
    await bot.send_photo(USER, png_header(2000, 100))
    assert telegram_standin.rejections() == []


async def test_the_digest_chart_is_accepted_as_a_photo(bot: telegram.Bot, telegram_standin: ControlClient) -> None:
    days = [{"end": f"2026-03-{day:02d}T07:00:00Z", "mentions": 10 + day, "negative": day % 4,
             "satisfaction": 4.2 + day / 100} for day in range(1, 31)]
    chart = digest_chart({"brand": "Acme", "days": days}, threshold=4.5)
    sent = await bot.send_photo(USER, chart, caption="<b>Acme</b>", parse_mode="HTML")
    assert sent.photo[0].width > 0 and sent.photo[0].height > 0
    assert telegram_standin.rejections() == []
