"""An in-memory Telegram Bot API for tests: validates every request like Telegram and records it."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
import struct
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from tests.telegram_standin.html_parse import HtmlParseError, parse_html, utf16_len
from tests.telegram_standin.ratelimit import RateLimits
from tests.telegram_standin.spec import ApiError, Spec, UploadedFile, bad_request, load_spec

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
CALLBACK_ANSWER_LIMIT = 200
_TOKEN_FORMAT = re.compile(r"[0-9]+:[A-Za-z0-9_-]+")
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_BUTTON_ACTIONS = {
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
}
SUPERGROUP_MIN_ID = -1_000_000_000_000
FAILURES = {
    "retry_after": (429, "Too Many Requests: retry after {retry_after}"),
    "forbidden": (403, "Forbidden: bot was blocked by the user"),
    "bad_gateway": (502, "Bad Gateway"),
    "server_error": (500, "Internal Server Error"),
}


class FloodError(ApiError):
    """A 429 from the stand-in's own flood limits (not an injected one)."""


class SupersededPoll(ApiError):
    """A long poll ended by a newer getUpdates (PTB does this when it stops polling)."""


@dataclass
class FailureRule:
    """Answer the next ``count`` matching calls with a failure instead of doing them."""

    kind: str
    count: int = 1
    method: str | None = None
    chat_id: str | None = None
    retry_after: int = 1
    delay: float = 0.0

    def matches(self, method: str, chat_id: Any) -> bool:
        if self.method is not None and self.method.lower() != method.lower():
            return False
        return self.chat_id is None or (chat_id is not None and str(chat_id) == self.chat_id)


@dataclass
class ChatState:
    chat: dict[str, Any]
    next_message_id: int = 1
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    sent_html: dict[int, str] = field(default_factory=dict)
    edit_counts: dict[int, int] = field(default_factory=dict)
    blocked: bool = False
    migrated_to: int | None = None


def _jsonable(params: dict[str, Any]) -> dict[str, Any]:
    return {
        k: {"file": v.filename, "size": len(v.data)} if isinstance(v, UploadedFile) else v for k, v in params.items()
    }


PHOTO_MAX_BYTES = 10 * 1024 * 1024  # sendPhoto: "The photo must be at most 10 MB in size"
PHOTO_MAX_SIDES = 10_000  # "The photo's width and height must not exceed 10000 in total"
PHOTO_MAX_RATIO = 20  # "Width and height ratio must be at most 20"


def _image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG, GIF or JPEG; None when the bytes are none of them (Telegram cannot use them)."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data[:2] == b"\xff\xd8":
        at = 2
        while at + 9 <= len(data) and data[at] == 0xFF:
            marker, length = data[at + 1], struct.unpack(">H", data[at + 2:at + 4])[0]
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", data[at + 5:at + 9])
                return int(width), int(height)
            at += 2 + length
    return None


def check_photo(data: bytes) -> tuple[int, int]:
    """The photo's size, or the error Telegram answers for a photo it will not take."""
    if len(data) > PHOTO_MAX_BYTES:
        raise bad_request("PHOTO_SAVE_FILE_INVALID")
    size = _image_size(data)
    if size is None:
        raise bad_request("IMAGE_PROCESS_FAILED")
    width, height = size
    if not width or not height or width + height > PHOTO_MAX_SIDES or max(width, height) > PHOTO_MAX_RATIO * min(
            width, height):
        raise bad_request("PHOTO_INVALID_DIMENSIONS")
    return width, height


class BotApiStandIn:
    """State and HTTP handlers of the stand-in; run it with ``StandInThread`` or ``python -m``."""

    def __init__(
        self,
        token: str = "123456:TEST-standin-token",
        spec: Spec | None = None,
        require_known_chats: bool = False,
        require_existing_button: bool = True,
    ) -> None:
        self.token = token
        self.spec = spec or load_spec()
        self.require_known_chats = require_known_chats
        self.require_existing_button = require_existing_button
        self.bot_user = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": "Review Watch Test",
            "username": "review_watch_test_bot",
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.started = time.monotonic()
        self.users: dict[int, dict[str, Any]] = {}
        self.chats: dict[int, ChatState] = {}
        self.updates: list[dict[str, Any]] = []
        self.update_ids = itertools.count(1)
        self.callback_ids = itertools.count(1)
        self.file_ids = itertools.count(1)
        self.files: dict[str, bytes] = {}
        self.callback_queries: dict[str, dict[str, Any]] = {}
        self.callback_answers: list[dict[str, Any]] = []
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.failures: list[FailureRule] = []
        self.rate_limits: RateLimits | None = None
        self.requests: list[dict[str, Any]] = []
        self.sent: list[dict[str, Any]] = []
        self.webhook: dict[str, Any] = {}
        self._updates_changed = asyncio.Event()
        self._requests_changed = asyncio.Event()
        self._poll_generation = 0
        self._webhook_task: asyncio.Task[None] | None = None
        self._seq = itertools.count(1)
        self.implemented = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendPhoto": self._send_photo,
            "sendChatAction": self._send_chat_action,
            "getChat": self._get_chat,
        }

    # ---------------------------------------------------------------- app

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self.handle_api)
        c = "/_control"
        app.router.add_get(c + "/state", self.c_state)
        app.router.add_post(c + "/users", self.c_add_user)
        app.router.add_post(c + "/message", self.c_message)
        app.router.add_post(c + "/callback", self.c_callback)
        app.router.add_post(c + "/fail", self.c_fail)
        app.router.add_post(c + "/block", self.c_block)
        app.router.add_post(c + "/migrate", self.c_migrate)
        app.router.add_post(c + "/rate_limits", self.c_rate_limits)
        app.router.add_get(c + "/requests", self.c_requests)
        app.router.add_get(c + "/rejections", self.c_rejections)
        app.router.add_get(c + "/messages", self.c_messages)
        app.router.add_get(c + "/sent", self.c_sent)
        app.router.add_get(c + "/callback_answers", self.c_callback_answers)
        app.router.add_get(c + "/commands", self.c_commands)
        app.router.add_get(c + "/files/{file_id}", self.c_file)
        app.router.add_post(c + "/wait", self.c_wait)
        app.router.add_post(c + "/reset", self.c_reset)
        app.on_cleanup.append(self._stop_webhook)
        return app

    def _now(self) -> float:
        return time.monotonic() - self.started

    def _record(self, method: str, params: dict[str, Any], status: int, outcome: str, detail: Any) -> None:
        self.requests.append(
            {
                "seq": next(self._seq),
                "t": round(self._now(), 4),
                "method": method,
                "params": _jsonable(params),
                "status": status,
                "outcome": outcome,
                "result" if status == 200 else "description": detail,
            }
        )
        self._requests_changed.set()
        self._requests_changed = asyncio.Event()

    async def handle_api(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        raw_method = request.match_info["method"]
        if not _TOKEN_FORMAT.fullmatch(token):
            return self._error(raw_method, {}, ApiError(404, "Not Found"), "rejected")
        if token != self.token:
            return self._error(raw_method, {}, ApiError(401, "Unauthorized"), "rejected")
        method = self.spec.method_name(raw_method)
        if method is None:
            return self._error(raw_method, {}, ApiError(404, "Not Found"), "rejected")
        params: dict[str, Any] = {}
        try:
            params, from_form = await self._read_params(request)
            params = self.spec.validate_params(method, params, from_form)
            self._check_prose(method, params)
        except ApiError as error:
            return self._error(method, params, error, "rejected")
        try:
            delay = self._apply_chat_rules(method, params)
        except FloodError as error:
            return self._error(method, params, error, "rate_limited")
        except ApiError as error:
            return self._error(method, params, error, "failed")
        implementation = self.implemented.get(method)
        try:
            if implementation is None:
                raise bad_request(f"the stand-in does not implement {method}")
            result = await implementation(params)
        except SupersededPoll as error:
            return self._error(method, params, error, "superseded")
        except ApiError as error:
            return self._error(method, params, error, "rejected")
        self._record(method, params, 200, "ok", result)
        if delay:
            await asyncio.sleep(delay)
        return web.json_response({"ok": True, "result": result})

    def _error(self, method: str, params: dict[str, Any], error: ApiError, outcome: str) -> web.Response:
        self._record(method, params, error.status, outcome, error.description)
        return web.json_response(error.body(), status=error.status)

    async def _read_params(self, request: web.Request) -> tuple[dict[str, Any], bool]:
        params: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    raise bad_request("can't parse JSON body") from None
                if not isinstance(body, dict):
                    raise bad_request("the JSON body must be an object")
                return {**params, **body}, False
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    params[key] = UploadedFile(value.filename, value.content_type, value.file.read())
                else:
                    params[key] = value
        return params, True

    # ---------------------------------------------------------------- rules Telegram states in prose

    def _check_prose(self, method: str, params: dict[str, Any]) -> None:
        if "text" in params and method in ("sendMessage", "editMessageText"):
            self._check_text(params["text"], params.get("parse_mode"), TEXT_LIMIT, "message")
        if method == "editMessageText" and "text" not in params:
            raise bad_request("message text is empty")
        if "caption" in params:
            self._check_text(params["caption"], params.get("parse_mode"), CAPTION_LIMIT, "caption")
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            self._check_inline_keyboard(markup["inline_keyboard"])
        if method == "answerCallbackQuery" and len(params.get("text", "")) > CALLBACK_ANSWER_LIMIT:
            raise bad_request("MESSAGE_TOO_LONG")
        if method == "setMyCommands":
            if len(params["commands"]) > 100:
                raise bad_request("too many commands")
            for command in params["commands"]:
                if not _COMMAND.fullmatch(command["command"]):
                    raise bad_request("BOT_COMMAND_INVALID")
                if not 1 <= len(command["description"]) <= 256:
                    raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")

    @staticmethod
    def _check_text(text: str, parse_mode: str | None, limit: int, what: str) -> None:
        parse_mode = parse_mode or None
        if parse_mode is not None and parse_mode.lower() in ("markdown", "markdownv2"):
            raise bad_request(f"the stand-in checks only HTML, not parse_mode {parse_mode}")
        if parse_mode is not None and parse_mode.lower() != "html":
            raise bad_request(f"unsupported parse_mode {parse_mode!r}")
        plain = text.strip()
        if parse_mode is not None:
            try:
                plain, _ = parse_html(text)
            except HtmlParseError as exc:
                raise bad_request(f"can't parse entities: {exc}") from None
        if what == "message" and not plain:
            raise bad_request("message text is empty")
        if utf16_len(plain) > limit:
            raise bad_request("message is too long" if what == "message" else "message caption is too long")

    @staticmethod
    def _check_inline_keyboard(rows: list[list[dict[str, Any]]]) -> None:
        for row in rows:
            for button in row:
                actions = _BUTTON_ACTIONS.intersection(button)
                if len(actions) != 1:
                    raise bad_request("text buttons are unallowed in the inline keyboard")
                if not button["text"]:
                    raise bad_request("BUTTON_TEXT_EMPTY")
                if "callback_data" in button:
                    size = len(button["callback_data"].encode("utf-8"))
                    if not 1 <= size <= CALLBACK_DATA_LIMIT:
                        raise bad_request("BUTTON_DATA_INVALID")
                if "url" in button and not re.match(r"(https?|tg)://[^\s]+$", button["url"]):
                    raise bad_request("BUTTON_URL_INVALID")

    def _apply_chat_rules(self, method: str, params: dict[str, Any]) -> float:
        """Injected failures, blocked and migrated chats, flood limits; returns a response delay."""
        chat_id = params.get("chat_id")
        delay = 0.0
        for rule in list(self.failures):
            if rule.matches(method, chat_id):
                rule.count -= 1
                if rule.count <= 0:
                    self.failures.remove(rule)
                if rule.kind == "delay":
                    delay = rule.delay
                    break
                status, description = FAILURES[rule.kind]
                parameters = {"retry_after": rule.retry_after} if rule.kind == "retry_after" else None
                raise ApiError(status, description.format(retry_after=rule.retry_after), parameters)
        if chat_id is None:
            return delay
        key = self._chat_key(chat_id)
        state = self.chats.get(key) if isinstance(key, int) else None
        if state is not None and state.migrated_to is not None:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": state.migrated_to},
            )
        if state is not None and state.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        counted = method.startswith(("send", "edit", "copy", "forward")) and method != "sendChatAction"
        if self.rate_limits is not None and counted:
            key = self._chat_key(chat_id)
            wait = self.rate_limits.retry_after(key, isinstance(key, int) and key < 0, self._now())
            if wait:
                raise FloodError(429, f"Too Many Requests: retry after {wait}", {"retry_after": wait})
        return delay

    # ---------------------------------------------------------------- chats and messages

    @staticmethod
    def _chat_key(chat_id: Any) -> int | str:
        if isinstance(chat_id, int):
            return chat_id
        text = str(chat_id)
        return int(text) if re.fullmatch(r"-?[0-9]+", text) else text

    def _user(self, user_id: int, **details: Any) -> dict[str, Any]:
        user = self.users.setdefault(user_id, {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"})
        user.update({k: v for k, v in details.items() if v is not None})
        return user

    def _new_chat(self, chat_id: int) -> ChatState:
        if chat_id > 0:
            user = self._user(chat_id)
            chat: dict[str, Any] = {"id": chat_id, "type": "private", "first_name": user["first_name"]}
            if "username" in user:
                chat["username"] = user["username"]
        elif chat_id <= SUPERGROUP_MIN_ID:
            chat = {"id": chat_id, "type": "supergroup", "title": f"Supergroup {chat_id}"}
        else:
            chat = {"id": chat_id, "type": "group", "title": f"Group {chat_id}"}
        state = ChatState(chat)
        self.chats[chat_id] = state
        return state

    def _chat(self, chat_id: Any) -> ChatState:
        key = self._chat_key(chat_id)
        if isinstance(key, str):
            for known in self.chats.values():
                if "@" + known.chat.get("username", "") == key:
                    return known
            raise bad_request("chat not found")
        state = self.chats.get(key)
        if state is not None:
            return state
        if self.require_known_chats:
            raise bad_request("chat not found")
        return self._new_chat(key)

    def _bot_message(self, params: dict[str, Any]) -> tuple[ChatState, int, dict[str, Any]]:
        state = self._chat(params["chat_id"])
        message_id = int(params["message_id"])
        message = state.messages.get(message_id)
        if message is None:
            raise bad_request("message to edit not found")
        if message.get("from", {}).get("id") != self.bot_user["id"]:
            raise bad_request("message can't be edited")
        return state, message_id, message

    def _store(self, state: ChatState, message: dict[str, Any]) -> dict[str, Any]:
        message["message_id"] = state.next_message_id
        state.next_message_id += 1
        state.messages[message["message_id"]] = message
        return message

    def _log_sent(self, method: str, state: ChatState, message_id: int, **extra: Any) -> None:
        self.sent.append(
            {
                "t": round(self._now(), 4),
                "method": method,
                "chat_id": state.chat["id"],
                "message_id": message_id,
            }
            | extra
        )

    @staticmethod
    def _text_fields(params: dict[str, Any], key: str, entities_key: str) -> dict[str, Any]:
        text = params[key]
        if params.get("parse_mode"):
            plain, entities = parse_html(text)  # already checked by _check_text
        else:
            plain, entities = text.strip(), params.get(entities_key, [])
        fields: dict[str, Any] = {key: plain}
        if entities:
            fields[entities_key] = entities
        return fields

    # ---------------------------------------------------------------- methods

    async def _get_me(self, params: dict[str, Any]) -> Any:
        return self.bot_user

    async def _get_updates(self, params: dict[str, Any]) -> Any:
        if self.webhook.get("url"):
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to "
                "delete the webhook first",
            )
        offset = int(params.get("offset", 0))
        limit = min(max(int(params.get("limit", 100)), 1), 100)
        timeout = max(int(params.get("timeout", 0)), 0)
        allowed = params.get("allowed_updates")
        if offset < 0:
            self.updates = self.updates[offset:]
        elif offset:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        self._poll_generation += 1
        generation = self._poll_generation
        self._wake_pollers()
        deadline = time.monotonic() + timeout
        while True:
            pending = [u for u in self.updates if not allowed or any(k in u for k in allowed)]
            if pending or time.monotonic() >= deadline:
                return pending[:limit]
            changed = self._updates_changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), deadline - time.monotonic())
            if generation != self._poll_generation:
                raise SupersededPoll(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                )

    async def _send_message(self, params: dict[str, Any]) -> Any:
        state = self._chat(params["chat_id"])
        message: dict[str, Any] = {
            "from": self.bot_user,
            "chat": state.chat,
            "date": int(time.time()),
            **self._text_fields(params, "text", "entities"),
        }
        if params.get("reply_markup", {}).get("inline_keyboard"):
            message["reply_markup"] = params["reply_markup"]  # Message shows inline keyboards only
        self._store(state, message)
        state.sent_html[message["message_id"]] = params["text"]
        self._log_sent(
            "sendMessage",
            state,
            message["message_id"],
            html=params["text"],
            text=message["text"],
            reply_markup=params.get("reply_markup"),
        )
        return message

    async def _send_photo(self, params: dict[str, Any]) -> Any:
        state = self._chat(params["chat_id"])
        photo = params["photo"]
        if isinstance(photo, UploadedFile):
            width, height = check_photo(photo.data)
            file_id = f"standin-photo-{next(self.file_ids)}"
            self.files[file_id] = photo.data
            size = len(photo.data)
        elif photo in self.files:
            file_id = photo
            width, height = check_photo(self.files[photo])
            size = len(self.files[photo])
        else:
            raise bad_request("wrong file identifier/HTTP URL specified")
        message: dict[str, Any] = {
            "from": self.bot_user,
            "chat": state.chat,
            "date": int(time.time()),
            "photo": [
                {
                    "file_id": file_id,
                    "file_unique_id": file_id,
                    "width": width,
                    "height": height,
                    "file_size": size,
                }
            ],
        }
        if params.get("caption"):
            message.update(self._text_fields(params, "caption", "caption_entities"))
        if params.get("reply_markup", {}).get("inline_keyboard"):
            message["reply_markup"] = params["reply_markup"]  # Message shows inline keyboards only
        self._store(state, message)
        self._log_sent("sendPhoto", state, message["message_id"], photo=file_id, caption=message.get("caption"))
        return message

    async def _edit_message_text(self, params: dict[str, Any]) -> Any:
        if "inline_message_id" in params:
            raise bad_request("the stand-in does not keep inline messages")
        state, message_id, message = self._bot_message(params)
        fields = self._text_fields(params, "text", "entities")
        markup = params.get("reply_markup")
        if (
            fields["text"] == message.get("text")
            and fields.get("entities") == message.get("entities")
            and markup == message.get("reply_markup")
        ):
            raise bad_request(
                "message is not modified: specified new message content and reply markup are exactly the "
                "same as a current content and reply markup of the message"
            )
        message.pop("entities", None)
        message.pop("reply_markup", None)
        message.update(fields, edit_date=int(time.time()))
        if markup:
            message["reply_markup"] = markup
        state.sent_html[message_id] = params["text"]
        state.edit_counts[message_id] = state.edit_counts.get(message_id, 0) + 1
        self._log_sent(
            "editMessageText",
            state,
            message_id,
            html=params["text"],
            text=fields["text"],
            reply_markup=markup,
        )
        return message

    async def _edit_message_reply_markup(self, params: dict[str, Any]) -> Any:
        if "inline_message_id" in params:
            raise bad_request("the stand-in does not keep inline messages")
        state, message_id, message = self._bot_message(params)
        markup = params.get("reply_markup")
        if markup == message.get("reply_markup") or (not markup and "reply_markup" not in message):
            raise bad_request(
                "message is not modified: specified new message content and reply markup are exactly the "
                "same as a current content and reply markup of the message"
            )
        message.pop("reply_markup", None)
        if markup and markup.get("inline_keyboard"):
            message["reply_markup"] = markup
        message["edit_date"] = int(time.time())
        state.edit_counts[message_id] = state.edit_counts.get(message_id, 0) + 1
        self._log_sent("editMessageReplyMarkup", state, message_id, reply_markup=markup)
        return message

    async def _delete_message(self, params: dict[str, Any]) -> Any:
        state = self._chat(params["chat_id"])
        message_id = int(params["message_id"])
        if state.messages.pop(message_id, None) is None:
            raise bad_request("message to delete not found")
        self._log_sent("deleteMessage", state, message_id)
        return True

    async def _answer_callback_query(self, params: dict[str, Any]) -> Any:
        query = self.callback_queries.get(params["callback_query_id"])
        if query is None or query["answered"]:
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        query["answered"] = True
        self.callback_answers.append({"t": round(self._now(), 4), **params})
        return True

    @staticmethod
    def _commands_key(params: dict[str, Any]) -> str:
        scope = params.get("scope") or {"type": "default"}
        return f"{scope['type']}:{scope.get('chat_id', '')}:{scope.get('user_id', '')}:" + params.get(
            "language_code", ""
        )

    async def _set_my_commands(self, params: dict[str, Any]) -> Any:
        self.commands[self._commands_key(params)] = params["commands"]
        return True

    async def _get_my_commands(self, params: dict[str, Any]) -> Any:
        return self.commands.get(self._commands_key(params), [])

    async def _delete_my_commands(self, params: dict[str, Any]) -> Any:
        self.commands.pop(self._commands_key(params), None)
        return True

    async def _set_webhook(self, params: dict[str, Any]) -> Any:
        url = params["url"]
        if url and not url.startswith(("http://", "https://")):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if params.get("drop_pending_updates"):
            self.updates.clear()
        self.webhook = {"url": url, "secret_token": params.get("secret_token")} if url else {}
        await self._stop_webhook()
        if url:
            self._webhook_task = asyncio.get_running_loop().create_task(self._webhook_pump())
        self._wake_pollers()
        return True

    async def _delete_webhook(self, params: dict[str, Any]) -> Any:
        if params.get("drop_pending_updates"):
            self.updates.clear()
        self.webhook = {}
        await self._stop_webhook()
        return True

    async def _get_webhook_info(self, params: dict[str, Any]) -> Any:
        return {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self.updates),
        }

    async def _send_chat_action(self, params: dict[str, Any]) -> Any:
        self._chat(params["chat_id"])
        return True

    async def _get_chat(self, params: dict[str, Any]) -> Any:
        state = self._chat(params["chat_id"])
        gifts = dict.fromkeys(
            (
                "unlimited_gifts",
                "limited_gifts",
                "unique_gifts",
                "premium_subscription",
                "gifts_from_channels",
            ),
            False,
        )
        return state.chat | {"accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": gifts}

    # ---------------------------------------------------------------- updates

    def _wake_pollers(self) -> None:
        self._updates_changed.set()
        self._updates_changed = asyncio.Event()

    def _push_update(self, payload: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": next(self.update_ids), **payload}
        self.updates.append(update)
        self._wake_pollers()
        return update

    async def _webhook_pump(self) -> None:
        async with aiohttp.ClientSession() as session:
            while self.webhook.get("url"):
                if not self.updates:
                    changed = self._updates_changed
                    await changed.wait()
                    continue
                update = self.updates[0]
                headers = {}
                if self.webhook.get("secret_token"):
                    headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook["secret_token"]
                try:
                    async with session.post(self.webhook["url"], json=update, headers=headers) as response:
                        delivered = 200 <= response.status < 300
                except aiohttp.ClientError:
                    delivered = False
                if delivered and self.updates and self.updates[0] is update:
                    self.updates.pop(0)
                elif not delivered:
                    await asyncio.sleep(0.2)

    async def _stop_webhook(self, _app: web.Application | None = None) -> None:
        task, self._webhook_task = self._webhook_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def inject_message(
        self,
        user_id: int,
        text: str,
        chat_id: int | None = None,
        reply_to_message_id: int | None = None,
        first_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> dict[str, Any]:
        """A text message from a user (a command when it starts with '/'); returns the update."""
        user = self._user(user_id, first_name=first_name, username=username, language_code=language_code)
        state = self._chat(chat_id if chat_id is not None else user_id)
        message: dict[str, Any] = {"from": user, "chat": state.chat, "date": int(time.time()), "text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(command)}]
        if reply_to_message_id is not None:
            replied = state.messages.get(reply_to_message_id)
            if replied is None:
                raise ValueError(f"no message {reply_to_message_id} in chat {state.chat['id']}")
            message["reply_to_message"] = replied
        self._store(state, message)
        return self._push_update({"message": message})

    def inject_callback(self, user_id: int, message_id: int, data: str, chat_id: int | None = None) -> dict[str, Any]:
        """A press on an inline button of a bot message; returns the update."""
        user = self._user(user_id)
        state = self._chat(chat_id if chat_id is not None else user_id)
        message = state.messages.get(message_id)
        if message is None:
            raise ValueError(f"no message {message_id} in chat {state.chat['id']}")
        if self.require_existing_button:
            buttons = [
                b.get("callback_data")
                for row in message.get("reply_markup", {}).get("inline_keyboard", [])
                for b in row
            ]
            if data not in buttons:
                raise ValueError(f"message {message_id} has no button with callback_data {data!r}")
        query_id = str(next(self.callback_ids))
        self.callback_queries[query_id] = {"answered": False}
        return self._push_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": user,
                    "message": message,
                    "chat_instance": str(state.chat["id"]),
                    "data": data,
                }
            }
        )

    # ---------------------------------------------------------------- control API

    @staticmethod
    async def _body(request: web.Request) -> dict[str, Any]:
        if not request.can_read_body:
            return {}
        body = await request.json()
        if not isinstance(body, dict):
            raise web.HTTPBadRequest(text="the control body must be a JSON object")
        return body

    @staticmethod
    def _control_error(message: str) -> web.Response:
        return web.json_response({"error": message}, status=400)

    async def c_state(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "token": self.token,
                "bot": self.bot_user,
                "pending_updates": len(self.updates),
                "requests": len(self.requests),
                "rejections": len(self.rejections()),
                "webhook": self.webhook,
            }
        )

    async def c_add_user(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        try:
            user = self._user(
                int(body["user_id"]),
                first_name=body.get("first_name"),
                username=body.get("username"),
                language_code=body.get("language_code"),
            )
        except (KeyError, ValueError, TypeError) as exc:
            return self._control_error(f"bad user: {exc}")
        if user["id"] not in self.chats:
            self._new_chat(user["id"])
        return web.json_response(user)

    async def c_message(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        try:
            update = self.inject_message(
                int(body["user_id"]),
                str(body["text"]),
                chat_id=body.get("chat_id"),
                reply_to_message_id=body.get("reply_to_message_id"),
                first_name=body.get("first_name"),
                username=body.get("username"),
                language_code=body.get("language_code"),
            )
        except (KeyError, ValueError, TypeError, ApiError) as exc:
            return self._control_error(f"cannot inject message: {exc}")
        message = update["message"]
        return web.json_response(
            {
                "update_id": update["update_id"],
                "message_id": message["message_id"],
                "chat_id": message["chat"]["id"],
            }
        )

    async def c_callback(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        try:
            update = self.inject_callback(
                int(body["user_id"]), int(body["message_id"]), str(body["data"]), chat_id=body.get("chat_id")
            )
        except (KeyError, ValueError, TypeError, ApiError) as exc:
            return self._control_error(f"cannot inject callback: {exc}")
        return web.json_response(
            {"update_id": update["update_id"], "callback_query_id": update["callback_query"]["id"]}
        )

    async def c_fail(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        kind = body.get("kind", "retry_after")
        if kind not in FAILURES and kind != "delay":
            return self._control_error(f"unknown failure kind {kind!r}; use {sorted(FAILURES) + ['delay']}")
        chat_id = body.get("chat_id")
        self.failures.append(
            FailureRule(
                kind=kind,
                count=int(body.get("count", 1)),
                method=body.get("method"),
                chat_id=None if chat_id is None else str(chat_id),
                retry_after=int(body.get("retry_after", 1)),
                delay=float(body.get("delay", 0)),
            )
        )
        return web.json_response({"pending_failures": len(self.failures)})

    async def c_block(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        state = self._chat(int(body["chat_id"]))
        state.blocked = bool(body.get("blocked", True))
        return web.json_response({"chat_id": state.chat["id"], "blocked": state.blocked})

    async def c_migrate(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        old, new = int(body["chat_id"]), int(body["to_chat_id"])
        if old >= 0 or new > SUPERGROUP_MIN_ID:
            return self._control_error("migrate a group (negative id) to a supergroup id <= -1000000000000")
        self._chat(old).migrated_to = new
        self._chat(new)
        return web.json_response({"chat_id": old, "migrated_to": new})

    async def c_rate_limits(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        if not body.get("enabled", True):
            self.rate_limits = None
            return web.json_response({"enabled": False})
        keys = ("private_per_second", "private_burst", "group_per_minute", "global_per_second")
        self.rate_limits = RateLimits(**{k: float(body[k]) for k in keys if k in body})
        return web.json_response({"enabled": True} | {k: getattr(self.rate_limits, k) for k in keys})

    def rejections(self) -> list[dict[str, Any]]:
        """Requests that real Telegram would have refused as wrong (not injected failures, not flood)."""
        return [r for r in self.requests if r["outcome"] == "rejected"]

    async def c_requests(self, request: web.Request) -> web.Response:
        method, outcome = request.query.get("method"), request.query.get("outcome")
        return web.json_response(
            [
                r
                for r in self.requests
                if (method is None or r["method"] == method) and (outcome is None or r["outcome"] == outcome)
            ]
        )

    async def c_rejections(self, request: web.Request) -> web.Response:
        return web.json_response(self.rejections())

    def bot_messages(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """Current state of every message the bot sent (edits applied, deleted ones gone)."""
        found = []
        for key, state in self.chats.items():
            if chat_id is not None and key != chat_id:
                continue
            for message_id, message in state.messages.items():
                if message.get("from", {}).get("id") == self.bot_user["id"]:
                    found.append(
                        message
                        | {
                            "html": state.sent_html.get(message_id),
                            "edit_count": state.edit_counts.get(message_id, 0),
                        }
                    )
        return found

    async def c_messages(self, request: web.Request) -> web.Response:
        chat_id = request.query.get("chat_id")
        return web.json_response(self.bot_messages(None if chat_id is None else int(chat_id)))

    async def c_sent(self, request: web.Request) -> web.Response:
        chat_id, method = request.query.get("chat_id"), request.query.get("method")
        return web.json_response(
            [
                s
                for s in self.sent
                if (chat_id is None or str(s["chat_id"]) == chat_id) and (method is None or s["method"] == method)
            ]
        )

    async def c_callback_answers(self, request: web.Request) -> web.Response:
        return web.json_response(self.callback_answers)

    async def c_commands(self, request: web.Request) -> web.Response:
        return web.json_response(self.commands)

    async def c_file(self, request: web.Request) -> web.Response:
        data = self.files.get(request.match_info["file_id"])
        if data is None:
            return web.json_response({"error": "no such file"}, status=404)
        return web.Response(body=data, content_type="application/octet-stream")

    async def c_wait(self, request: web.Request) -> web.Response:
        """Wait until ``count`` accepted requests of ``method`` (optionally to ``chat_id``) were made."""
        body = await self._body(request)
        method, count = body.get("method"), int(body.get("count", 1))
        chat_id = body.get("chat_id")
        deadline = time.monotonic() + float(body.get("timeout", 10))

        def matching() -> list[dict[str, Any]]:
            return [
                r
                for r in self.requests
                if r["outcome"] == "ok"
                and (method is None or r["method"] == method)
                and (chat_id is None or str(r["params"].get("chat_id")) == str(chat_id))
            ]

        while len(found := matching()) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return web.json_response(
                    {
                        "error": f"timed out: {len(found)} of {count} {method or 'requests'}",
                        "requests": found,
                    },
                    status=408,
                )
            changed = self._requests_changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)
        return web.json_response(found)

    async def c_reset(self, request: web.Request) -> web.Response:
        """Forget recorded requests, sends and callback answers; chats, users and messages stay."""
        self.requests.clear()
        self.sent.clear()
        self.callback_answers.clear()
        self.failures.clear()
        return web.json_response({"reset": True})
