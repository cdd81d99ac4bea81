"""The Bot API stand-in, driven by the real python-telegram-bot client."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import telegram
from aiohttp import web
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, ChatMigrated, Conflict, EndPointNotFound, Forbidden, RetryAfter

from tests.telegram_standin import ControlClient, ControlError

USER = 1001
pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning")


@pytest.fixture
async def bot(telegram_standin: ControlClient) -> AsyncIterator[telegram.Bot]:
    async with telegram.Bot(telegram_standin.token, base_url=telegram_standin.base_url) as client:
        yield client


def message_of(update: telegram.Update) -> telegram.Message:
    assert update.message is not None
    return update.message


def _seconds(value: int | dt.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else value


def _png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


async def test_accepts_html_message_with_keyboard_and_returns_a_real_message(
    bot: telegram.Bot, telegram_standin: ControlClient
) -> None:
    assert bot.username == "review_watch_test_bot"
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Claim", callback_data="claim:42")],
            [InlineKeyboardButton("Open", url="https://x.example/r/1")],
        ]
    )
    sent = await bot.send_message(
        USER, "<b>Acme</b> &amp; co: &lt;script&gt; “quoted” 😀 <i>done</i>", parse_mode="HTML", reply_markup=keyboard
    )
    assert sent.message_id == 1
    assert sent.chat.id == USER
    assert sent.text == "Acme & co: <script> “quoted” 😀 done"
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [
        ("bold", 0, 4),
        ("italic", 32, 4),
    ]  # 😀 counts 2 UTF-16 units
    assert sent.reply_markup == keyboard
    [stored] = telegram_standin.messages(USER)
    assert stored["html"].startswith("<b>Acme</b>")
    assert stored["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "claim:42"
    assert telegram_standin.rejections() == []
    second = await bot.send_message(USER, "next")
    assert second.message_id == 2


@pytest.mark.parametrize(
    ("html", "description"),
    [
        ("<script>alert(1)</script>", 'Unsupported start tag "script" at byte offset 0'),
        ("Tom & Jerry", "Character '&' must be escaped as &amp; at byte offset 4"),
        ("a &nbsp; b", 'Unsupported HTML entity "&nbsp;"'),
        ("1 > 0", "Character '>' must be escaped"),
        ("<b>bold <i>both</b></i>", 'Unmatched end tag at byte offset 15, expected "</i>", found "</b>"'),
        ("<b>never closed", 'Can\'t find end tag corresponding to start tag "b"'),
        ("text</b>", "Unexpected end tag at byte offset 4"),
        ('<span class="x">s</span>', 'Unsupported start tag "span"'),
        ("<br>", 'Unsupported start tag "br"'),
        ('<a href="https://x.example>link</a>', "Unexpected '<' in an attribute at byte offset 31"),
        ("ok <b", "Unclosed start tag at byte offset 3"),
    ],
)
async def test_rejects_html_that_telegram_cannot_parse(
    bot: telegram.Bot, telegram_standin: ControlClient, html: str, description: str
) -> None:
    with pytest.raises(BadRequest, match="(?i)can't parse entities"):
        await bot.send_message(USER, html, parse_mode="HTML")
    [rejection] = telegram_standin.rejections()
    assert rejection["description"].startswith("Bad Request: can't parse entities: ")
    assert description in rejection["description"]
    assert rejection["method"] == "sendMessage"
    assert rejection["status"] == 400
    assert telegram_standin.messages(USER) == []


async def test_length_counts_text_after_entity_parsing(bot: telegram.Bot, telegram_standin: ControlClient) -> None:
    at_limit = "<b>" + "&amp;" * 4000 + "</b>" + "x" * 96
    await bot.send_message(USER, at_limit, parse_mode="HTML")
    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await bot.send_message(USER, at_limit + "y", parse_mode="HTML")
    emoji = "😀" * 2049  # 4098 UTF-16 units
    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await bot.send_message(USER, emoji)
    with pytest.raises(BadRequest, match="(?i)message text is empty"):
        await bot.send_message(USER, "<b> </b>", parse_mode="HTML")
    assert len(telegram_standin.rejections()) == 3


async def test_caption_limit(bot: telegram.Bot, telegram_standin: ControlClient) -> None:
    with pytest.raises(BadRequest, match="(?i)caption is too long"):
        await bot.send_photo(USER, _png(2, 2), caption="c" * 1025)
    sent = await bot.send_photo(USER, _png(3, 2), caption="<b>chart</b>", parse_mode="HTML")
    assert (sent.photo[0].width, sent.photo[0].height) == (3, 2)
    assert sent.caption == "chart"
    assert telegram_standin.file(sent.photo[0].file_id) == _png(3, 2)


@pytest.mark.parametrize(
    ("data", "accepted"), [("a" * 64, True), ("a" * 65, False), ("ж" * 32, True), ("ж" * 33, False)]
)
async def test_callback_data_is_limited_to_64_bytes(
    bot: telegram.Bot, telegram_standin: ControlClient, data: str, accepted: bool
) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Claim", callback_data=data)]])
    if accepted:
        await bot.send_message(USER, "card", reply_markup=markup)
        assert telegram_standin.rejections() == []
    else:
        with pytest.raises(BadRequest, match="(?i)button_data_invalid"):
            await bot.send_message(USER, "card", reply_markup=markup)


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBUserWarning")
async def test_rejects_what_the_spec_does_not_allow(bot: telegram.Bot, telegram_standin: ControlClient) -> None:
    with pytest.raises(BadRequest, match="(?i)unknown parameter"):
        await bot.send_message(USER, "hi", api_kwargs={"colour": "red"})
    with pytest.raises(BadRequest, match="(?i)must be integer"):
        await bot.send_message(USER, "hi", message_thread_id="abc")  # type: ignore[arg-type]
    with pytest.raises(BadRequest, match="(?i)message text is empty"):
        await bot.do_api_request("sendMessage", api_kwargs={"chat_id": USER})
    with pytest.raises(BadRequest, match="(?i)unknown field"):
        await bot.do_api_request(
            "sendMessage",
            api_kwargs={
                "chat_id": USER,
                "text": "x",
                "reply_markup": {"inline_keyboard": [[{"text": "a", "colour": 1}]]},
            },
        )
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendTelepathy", api_kwargs={"chat_id": USER})
    rejections = telegram_standin.rejections()
    assert [r["description"] for r in rejections] == [
        'Bad Request: unknown parameter "colour" for method sendMessage',
        'Bad Request: parameter "message_thread_id" must be Integer',
        "Bad Request: message text is empty",
        'Bad Request: unknown field "colour" in reply_markup.inline_keyboard[0][0] (InlineKeyboardButton)',
        "Not Found",
    ]
    assert [r["status"] for r in rejections] == [400, 400, 400, 400, 404]


async def test_wrong_token_is_unauthorized(telegram_standin: ControlClient) -> None:
    with pytest.raises(telegram.error.InvalidToken):
        async with telegram.Bot("999:wrong", base_url=telegram_standin.base_url):
            pass


async def test_injected_429_then_success(bot: telegram.Bot, telegram_standin: ControlClient) -> None:
    telegram_standin.fail_next("retry_after", count=2, method="sendMessage", retry_after=3)
    for _ in range(2):
        with pytest.raises(RetryAfter) as error:
            await bot.send_message(USER, "alert")
        assert _seconds(error.value.retry_after) == 3
    await bot.send_message(USER, "alert")
    outcomes = [r["outcome"] for r in telegram_standin.requests(method="sendMessage")]
    assert outcomes == ["failed", "failed", "ok"]
    assert telegram_standin.rejections() == []
    assert len(telegram_standin.messages(USER)) == 1


async def test_blocked_user_gives_403_and_migrated_group_gives_new_id(
    bot: telegram.Bot, telegram_standin: ControlClient
) -> None:
    telegram_standin.block(USER)
    with pytest.raises(Forbidden, match="(?i)bot was blocked by the user"):
        await bot.send_message(USER, "alert")
    telegram_standin.block(USER, blocked=False)
    await bot.send_message(USER, "alert")
    telegram_standin.migrate(-4001, -1001234567890)
    with pytest.raises(ChatMigrated) as migrated:
        await bot.send_message(-4001, "to the leads")
    assert migrated.value.new_chat_id == -1001234567890
    sent = await bot.send_message(migrated.value.new_chat_id, "to the leads")
    assert sent.chat.type == "supergroup"


async def test_rate_limits_when_enforced(bot: telegram.Bot, telegram_standin: ControlClient) -> None:
    telegram_standin.enforce_rate_limits(private_per_second=1, private_burst=3)
    for n in range(3):
        await bot.send_message(USER, f"alert {n}")
    with pytest.raises(RetryAfter) as error:
        await bot.send_message(USER, "alert 3")
    assert _seconds(error.value.retry_after) == 1
    await bot.send_message(USER + 1, "another chat has its own allowance")
    await asyncio.sleep(1.05)
    await bot.send_message(USER, "alert 3")
    assert [r["outcome"] for r in telegram_standin.requests(outcome="rate_limited")] == ["rate_limited"]
    assert telegram_standin.rejections() == []


async def test_get_updates_long_poll_offset_and_commands(bot: telegram.Bot, telegram_standin: ControlClient) -> None:
    assert await bot.get_updates(timeout=0) == ()
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.3)
    assert not poll.done()
    telegram_standin.send_text(USER, "/start INVITE-1", language_code="ru")
    [update] = await poll
    assert time.monotonic() - started < 5
    message = message_of(update)
    assert message.text == "/start INVITE-1"
    assert message.from_user is not None and message.from_user.language_code == "ru"
    assert message.entities[0].type == "bot_command"
    again = await bot.get_updates(timeout=0)
    assert [u.update_id for u in again] == [update.update_id]
    telegram_standin.send_text(USER, "hello")
    newer = await bot.get_updates(offset=update.update_id + 1, timeout=0)
    assert [message_of(u).text for u in newer] == ["hello"]
    assert not message_of(newer[0]).entities
    assert await bot.get_updates(offset=newer[0].update_id + 1, timeout=0) == ()


async def test_a_second_poller_terminates_the_first(bot: telegram.Bot, telegram_standin: ControlClient) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.2)
    async with telegram.Bot(telegram_standin.token, base_url=telegram_standin.base_url) as other_instance:
        second = asyncio.create_task(other_instance.get_updates(timeout=0))
        with pytest.raises(Conflict, match="(?i)terminated by other getupdates request"):
            await first
        assert await second == ()
    outcomes = sorted(r["outcome"] for r in telegram_standin.requests(method="getUpdates"))
    assert outcomes == ["ok", "superseded"]
    assert telegram_standin.rejections() == []


async def test_button_press_edit_and_answer(bot: telegram.Bot, telegram_standin: ControlClient) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Claim", callback_data="claim:7")]])
    card = await bot.send_message(USER, "case 7", reply_markup=keyboard)
    with pytest.raises(ControlError, match="no button"):
        telegram_standin.press_button(USER, card.message_id, "resolve:7")
    pressed = telegram_standin.press_button(USER, card.message_id, "claim:7")
    [update] = await bot.get_updates(timeout=1)
    query = update.callback_query
    assert query is not None and query.message is not None
    assert (query.id, query.data, query.message.message_id) == (
        pressed["callback_query_id"],
        "claim:7",
        card.message_id,
    )
    assert await bot.answer_callback_query(query.id, text="Claimed")
    with pytest.raises(BadRequest, match="(?i)query is too old"):
        await bot.answer_callback_query(query.id, text="Claimed")
    edited = await bot.edit_message_text("case 7 · claimed by Anna", USER, card.message_id)
    assert isinstance(edited, telegram.Message) and edited.text == "case 7 · claimed by Anna"
    with pytest.raises(BadRequest, match="(?i)not modified"):
        await bot.edit_message_text("case 7 · claimed by Anna", USER, card.message_id)
    await bot.edit_message_reply_markup(USER, card.message_id, reply_markup=keyboard)
    with pytest.raises(BadRequest, match="(?i)message to edit not found"):
        await bot.edit_message_text("x", USER, 999)
    [stored] = telegram_standin.messages(USER)
    assert stored["edit_count"] == 2
    assert [s["method"] for s in telegram_standin.sent(USER)] == [
        "sendMessage",
        "editMessageText",
        "editMessageReplyMarkup",
    ]
    assert telegram_standin.callback_answers()[0]["text"] == "Claimed"
    assert await bot.delete_message(USER, card.message_id)
    assert telegram_standin.messages(USER) == []


async def test_reply_to_a_force_reply_prompt(bot: telegram.Bot, telegram_standin: ControlClient) -> None:
    prompt = await bot.send_message(USER, "Your reply to case 7?", reply_markup=telegram.ForceReply())
    telegram_standin.send_text(USER, "We are sorry & will fix it", reply_to_message_id=prompt.message_id)
    [update] = await bot.get_updates(timeout=1)
    replied = message_of(update).reply_to_message
    assert replied is not None and replied.message_id == prompt.message_id


async def test_commands_are_registered_and_checked(bot: telegram.Bot, telegram_standin: ControlClient) -> None:
    await bot.set_my_commands([("help", "What I can do"), ("queue", "My open cases")])
    await bot.set_my_commands([("help", "Что я умею")], language_code="ru")
    assert [c.command for c in await bot.get_my_commands()] == ["help", "queue"]
    assert telegram_standin.commands()["default:::ru"] == [{"command": "help", "description": "Что я умею"}]
    with pytest.raises(BadRequest, match="(?i)bot_command_invalid"):
        await bot.set_my_commands([("Help", "capital letters are not allowed")])


async def test_get_chat_and_webhook_delivery(bot: telegram.Bot, telegram_standin: ControlClient) -> None:
    chat = await bot.get_chat(USER)
    assert chat.type == "private"
    received: list[tuple[str | None, dict[str, object]]] = []

    async def receive(request: web.Request) -> web.Response:
        received.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json()))
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cret")
        with pytest.raises(Conflict, match="(?i)webhook is active"):
            await bot.get_updates()
        telegram_standin.send_text(USER, "/queue")
        for _ in range(100):
            if received:
                break
            await asyncio.sleep(0.05)
        assert received[0][0] == "s3cret"
        assert received[0][1]["message"]["text"] == "/queue"  # type: ignore[index]
        assert await bot.delete_webhook()
        assert await bot.get_updates(timeout=0) == ()
    finally:
        await runner.cleanup()


async def test_wait_for_and_reset(bot: telegram.Bot, telegram_standin: ControlClient) -> None:
    async def later() -> None:
        await asyncio.sleep(0.2)
        await bot.send_message(USER, "late")

    task = asyncio.create_task(later())
    found = await asyncio.to_thread(telegram_standin.wait_for, "sendMessage", 1, USER, 5)
    await task
    assert found[0]["params"]["text"] == "late"
    with pytest.raises(ControlError, match="timed out"):
        telegram_standin.wait_for("sendMessage", count=2, timeout=0.2)
    telegram_standin.reset()
    assert telegram_standin.requests() == []


def test_runs_as_a_separate_process(tmp_path: Path) -> None:
    ready = tmp_path / "ready.json"
    repo = Path(__file__).resolve().parents[2]
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.telegram_standin", "--ready-file", str(ready)],
        cwd=repo,
        stdout=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            if ready.exists() and ready.read_text():
                break
            time.sleep(0.05)
        info = json.loads(ready.read_text())
        control = ControlClient(info["api_url"], info["token"])
        control.send_text(USER, "/help")

        async def poll() -> tuple[telegram.Update, ...]:
            async with telegram.Bot(info["token"], base_url=control.base_url) as client:
                return await client.get_updates(timeout=1)

        [update] = asyncio.run(poll())
        assert message_of(update).text == "/help"
        assert control.rejections() == []
    finally:
        process.terminate()
        process.wait(timeout=10)


async def test_a_polling_application_answers_a_command(telegram_standin: ControlClient) -> None:
    from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

    async def help_command(update: telegram.Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Claim", callback_data="claim:1")]])
        await message_of(update).reply_html("<b>Help</b> &amp; more", reply_markup=keyboard)

    async def pressed(update: telegram.Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.callback_query is not None
        await update.callback_query.answer("ok")
        await update.callback_query.edit_message_text("claimed")

    application = (
        Application.builder()
        .token(telegram_standin.token)
        .base_url(telegram_standin.base_url)
        .get_updates_read_timeout(5)
        .build()
    )
    application.add_handler(CommandHandler("help", help_command))
    application.add_handler(CallbackQueryHandler(pressed))
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=1, drop_pending_updates=True)
        telegram_standin.send_text(USER, "/help")
        [sent] = await asyncio.to_thread(telegram_standin.wait_for, "sendMessage", 1, USER, 10)
        telegram_standin.press_button(USER, sent["result"]["message_id"], "claim:1")
        await asyncio.to_thread(telegram_standin.wait_for, "editMessageText", 1, USER, 10)
        await application.updater.stop()
        await application.stop()
    assert [m["text"] for m in telegram_standin.messages(USER)] == ["claimed"]
    assert telegram_standin.callback_answers()[0]["text"] == "ok"
    assert telegram_standin.rejections() == []
