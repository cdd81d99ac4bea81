"""`review-watch bot` / `run`: the Telegram application, the outbox sender, the scheduler and the web server."""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
import signal
import sys
from pathlib import Path
from typing import Any

from aiohttp import web
from telegram import BotCommand, Update
from telegram.error import InvalidToken, TelegramError
from telegram.ext import AIORateLimiter, Application

from bot import handlers, messages
from bot.context import BotContext
from bot.leadership import LEASE_SECONDS, lead_while_holding
from bot.metrics import metrics_text
from bot.sender import OutboxSender, run_forever
from review_watch.config import ConfigError
from review_watch.services import replies
from review_watch.services.cases import scheduler_tick
from review_watch.services.digests import queue_due_digests
from review_watch.services.incidents import check as check_incidents
from review_watch.services.review_queue import queue_please_look

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_UPDATE_BYTES = 1 << 20  # a Telegram update is a few KiB; a bigger body is refused with 413
SENDING_LEASE = "bot-sending"  # held by the one replica that sends, schedules and long-polls
CRAWL_STOP_GRACE = 15.0  # seconds a crawl gets to stop cleanly when `run` stops, before it is killed


def build_application(app: BotContext) -> Application[Any, Any, Any, Any, Any, Any]:
    settings = app.config.telegram
    if not settings.token:
        raise ConfigError("telegram.token is not set (or set REVIEW_WATCH_TELEGRAM_TOKEN)")
    api = settings.api_url.rstrip("/")
    application = (Application.builder().token(settings.token).base_url(f"{api}/bot")
                   .base_file_url(f"{api}/file/bot").rate_limiter(AIORateLimiter(max_retries=0))
                   .get_updates_read_timeout(settings.poll_timeout + 10).build())
    handlers.install(application, app)
    return application


async def _register_commands(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    for locale in messages.LOCALES:
        commands = [BotCommand(name, description) for name, description in messages.command_list(locale)]
        await application.bot.set_my_commands(commands, language_code=None if locale == "en" else locale)


async def _crawl_periodically(config_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "review_watch.entrypoints.cli", "crawl",
                                                   "--config", str(config_path))
    try:
        await process.wait()
    except asyncio.CancelledError:
        # `run` is stopping: the crawl stops with it (what it stored stays) rather than run on alone.
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), CRAWL_STOP_GRACE)
        except TimeoutError:
            process.kill()
            await process.wait()
        raise


def _web_app(app: BotContext, application: Application[Any, Any, Any, Any, Any, Any], secret: str) -> web.Application:
    """`secret`: what Telegram sends in SECRET_HEADER; updates without it are refused unread."""
    expected = secret.encode()

    async def webhook(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "surrogateescape")  # as aiohttp decoded it
        if not hmac.compare_digest(given, expected):
            return web.Response(status=403, text="wrong secret token")
        try:
            body = await request.json()
            update = Update.de_json(body, application.bot) if isinstance(body, dict) else None
        except (ValueError, TypeError, KeyError):
            update = None
        if update is None:
            return web.Response(status=400, text="not an update")
        await application.update_queue.put(update)
        return web.Response(text="ok")

    async def healthz(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def metrics(_: web.Request) -> web.Response:
        body = await asyncio.to_thread(metrics_text, app)
        return web.Response(body=body, content_type="text/plain", charset="utf-8")

    web_app = web.Application(client_max_size=MAX_UPDATE_BYTES)
    web_app.router.add_post("/telegram", webhook)
    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/metrics", metrics)
    return web_app


async def serve(app: BotContext, config_path: Path | None = None, crawl: bool = False) -> None:
    application = build_application(app)
    settings = app.config.telegram
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    lease = app.lease(SENDING_LEASE, LEASE_SECONDS)
    leader_tasks: list[asyncio.Task[None]] = []
    senders: list[OutboxSender] = []

    async def tick() -> None:
        def work() -> None:
            with app.unit_of_work() as uow:
                scheduler_tick(uow, app.config, app.clock)
                queue_please_look(uow, app.config, app.clock)
                queue_due_digests(uow, app.config, app.clock())
            with app.unit_of_work() as uow:
                check_incidents(uow, app.config, app.clock)  # an incident closes on time with no crawl running

        if lease.held():
            await asyncio.to_thread(work)

    async def post_replies() -> None:
        await replies.post_due(app.unit_of_work, app.config, app.connectors, app.clock)

    async with application:
        await _register_commands(application)
        await application.start()
        runner: web.AppRunner | None = None
        if settings.webhook_url:
            # Every replica serves the webhook (behind a load balancer, with one configured secret). Without a
            # configured secret, one for this run: the update path must never take anyone's POST.
            secret = settings.webhook_secret or secrets.token_urlsafe(32)
            runner = web.AppRunner(_web_app(app, application, secret))
            await runner.setup()
            await web.TCPSite(runner, settings.webhook_listen, settings.webhook_port).start()
            await application.bot.set_webhook(f"{settings.webhook_url.rstrip('/')}/telegram",
                                              secret_token=secret)
            log.info("webhook server on %s:%s", settings.webhook_listen, settings.webhook_port)

        async def start_leading() -> None:
            """The lease's holder sends, schedules and, without a webhook, long-polls (one poller at a time)."""
            sender = OutboxSender(app, application.bot, may_send=lease.held)
            senders.append(sender)
            leader_tasks.append(asyncio.create_task(run_forever(sender.dispatch, settings.send_interval,
                                                                "outbox sender")))
            leader_tasks.append(asyncio.create_task(run_forever(post_replies, settings.send_interval,
                                                                "reply sender")))
            leader_tasks.append(asyncio.create_task(run_forever(tick, settings.tick_interval, "scheduler")))
            if crawl and config_path is not None:
                leader_tasks.append(asyncio.create_task(run_forever(lambda: _crawl_periodically(config_path),
                                                                    app.config.crawl.interval, "crawl")))
            if not settings.webhook_url and application.updater is not None:
                await application.bot.delete_webhook()
                await application.updater.start_polling(timeout=int(settings.poll_timeout),
                                                        allowed_updates=Update.ALL_TYPES)

        async def stop_leading() -> None:
            for task in leader_tasks:
                task.cancel()
            await asyncio.gather(*leader_tasks, return_exceptions=True)
            leader_tasks.clear()
            for sender in senders:
                await sender.close()
            senders.clear()
            if application.updater is not None and application.updater.running:
                await application.updater.stop()

        leadership = asyncio.create_task(lead_while_holding(lease, start_leading, stop_leading))
        log.info("review-watch bot running")
        await stop.wait()
        leadership.cancel()
        await asyncio.gather(leadership, return_exceptions=True)
        await application.stop()
        if runner is not None:
            await runner.cleanup()


def run_bot(app: BotContext, config_path: Path | None = None, crawl_every: bool = False) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "telegram.ext.Updater", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("telegram.ext.AIORateLimiter").setLevel(logging.CRITICAL)  # the sender logs its 429s
    app.unit_of_work()  # opens the database first: fails early, in one line, on a bad one
    try:
        asyncio.run(serve(app, config_path, crawl_every))
    except InvalidToken:
        raise ConfigError("telegram.token was refused by the Bot API") from None
    except TelegramError as exc:
        raise ConfigError(f"the Bot API at {app.config.telegram.api_url} answered: {exc}") from None
