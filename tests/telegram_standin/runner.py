"""Runs the stand-in on 127.0.0.1 in a background thread, and a client for its control API."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import urllib.error
import urllib.request
from typing import Any

from aiohttp import web

from tests.telegram_standin.server import BotApiStandIn


class ControlError(RuntimeError):
    """The control API refused a request (bad injection, wait timed out)."""


class ControlClient:
    """Talks to ``/_control/...`` of a stand-in in this process or in another one."""

    def __init__(self, api_url: str, token: str) -> None:
        self.api_url = api_url.rstrip("/")
        self.token = token

    @property
    def base_url(self) -> str:
        """What python-telegram-bot takes as ``base_url``."""
        return f"{self.api_url}/bot"

    def _call(self, path: str, body: dict[str, Any] | None = None, query: str = "", timeout: float = 30) -> Any:
        url = f"{self.api_url}/_control/{path}" + (f"?{query}" if query else "")
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method="GET" if body is None else "POST")
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise ControlError(f"{path}: {exc.read().decode(errors='replace')}") from None

    def add_user(
        self,
        user_id: int,
        first_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> dict[str, Any]:
        return self._call(
            "users",
            {
                "user_id": user_id,
                "first_name": first_name,
                "username": username,
                "language_code": language_code,
            },
        )

    def send_text(
        self,
        user_id: int,
        text: str,
        chat_id: int | None = None,
        reply_to_message_id: int | None = None,
        language_code: str | None = None,
    ) -> dict[str, Any]:
        """A user writes ``text`` (a command when it starts with '/'); returns update/message/chat ids."""
        return self._call(
            "message",
            {
                "user_id": user_id,
                "text": text,
                "chat_id": chat_id,
                "reply_to_message_id": reply_to_message_id,
                "language_code": language_code,
            },
        )

    def press_button(self, user_id: int, message_id: int, data: str, chat_id: int | None = None) -> dict[str, Any]:
        """A user presses the inline button carrying ``data`` on a bot message; returns callback_query_id."""
        return self._call("callback", {"user_id": user_id, "message_id": message_id, "data": data, "chat_id": chat_id})

    def fail_next(
        self,
        kind: str = "retry_after",
        count: int = 1,
        method: str | None = None,
        chat_id: int | None = None,
        retry_after: int = 1,
        delay: float = 0.0,
    ) -> None:
        """The next ``count`` matching calls fail: retry_after (429), forbidden (403), bad_gateway (502),
        server_error (500), or delay (done, but answered ``delay`` seconds late)."""
        self._call(
            "fail",
            {
                "kind": kind,
                "count": count,
                "method": method,
                "chat_id": chat_id,
                "retry_after": retry_after,
                "delay": delay,
            },
        )

    def block(self, chat_id: int, blocked: bool = True) -> None:
        """The user blocked the bot: every call for this chat answers 403."""
        self._call("block", {"chat_id": chat_id, "blocked": blocked})

    def migrate(self, chat_id: int, to_chat_id: int) -> None:
        """The group became a supergroup: calls for the old id answer 400 with migrate_to_chat_id."""
        self._call("migrate", {"chat_id": chat_id, "to_chat_id": to_chat_id})

    def enforce_rate_limits(self, enabled: bool = True, **limits: float) -> dict[str, Any]:
        """Answer 429 above Telegram's limits (private_per_second, private_burst, group_per_minute,
        global_per_second)."""
        return self._call("rate_limits", {"enabled": enabled, **limits})

    def requests(self, method: str | None = None, outcome: str | None = None) -> list[dict[str, Any]]:
        """Every request: outcome ok, rejected (Telegram would refuse it), failed (injected/blocked/migrated),
        rate_limited (over the enforced limits) or superseded (a long poll ended by a newer getUpdates)."""
        query = "&".join(f"{k}={v}" for k, v in (("method", method), ("outcome", outcome)) if v)
        return self._call("requests", query=query)

    def rejections(self) -> list[dict[str, Any]]:
        return self._call("rejections")

    def messages(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """The bot's messages as they are now: Message objects plus ``html`` (as sent) and ``edit_count``."""
        return self._call("messages", query="" if chat_id is None else f"chat_id={chat_id}")

    def sent(self, chat_id: int | None = None, method: str | None = None) -> list[dict[str, Any]]:
        """Every accepted send, edit and delete, in order."""
        query = "&".join(f"{k}={v}" for k, v in (("chat_id", chat_id), ("method", method)) if v is not None)
        return self._call("sent", query=query)

    def callback_answers(self) -> list[dict[str, Any]]:
        return self._call("callback_answers")

    def commands(self) -> dict[str, list[dict[str, Any]]]:
        """Registered commands keyed ``scope:chat_id:user_id:language_code`` ("default:::")."""
        return self._call("commands")

    def file(self, file_id: str) -> bytes:
        with urllib.request.urlopen(f"{self.api_url}/_control/files/{file_id}", timeout=30) as response:
            data: bytes = response.read()
            return data

    def wait_for(
        self, method: str | None = None, count: int = 1, chat_id: int | None = None, timeout: float = 10
    ) -> list[dict[str, Any]]:
        """Block until ``count`` accepted calls of ``method`` were made; ControlError on timeout."""
        return self._call(
            "wait",
            {"method": method, "count": count, "chat_id": chat_id, "timeout": timeout},
            timeout=timeout + 10,
        )

    def reset(self) -> None:
        self._call("reset", {})

    def state(self) -> dict[str, Any]:
        return self._call("state")


class StandInThread:
    """The stand-in served by its own event loop in a daemon thread (usable from sync and async tests)."""

    def __init__(self, standin: BotApiStandIn | None = None, port: int = 0) -> None:
        self.standin = standin or BotApiStandIn()
        self.port = port
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="telegram-standin", daemon=True)

    @property
    def api_url(self) -> str:
        """What goes into ``[telegram] api_url``."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ControlClient:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=30)
        return ControlClient(self.api_url, self.standin.token)

    async def _start(self) -> None:
        self._runner = web.AppRunner(self.standin.make_app(), shutdown_timeout=0.5)
        await self._runner.setup()
        listener = socket.create_server(("127.0.0.1", self.port))
        self.port = listener.getsockname()[1]
        await web.SockSite(self._runner, listener).start()

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.close()
