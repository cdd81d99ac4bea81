"""``python -m tests.telegram_standin --port N``: serve the stand-in until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import sys
from pathlib import Path

from aiohttp import web

from tests.telegram_standin.server import BotApiStandIn
from tests.telegram_standin.spec import load_spec


async def _serve(standin: BotApiStandIn, port: int, ready_file: Path | None) -> None:
    runner = web.AppRunner(standin.make_app(), shutdown_timeout=0.5)
    await runner.setup()
    listener = socket.create_server(("127.0.0.1", port))
    bound = listener.getsockname()[1]
    await web.SockSite(runner, listener).start()
    info = {"api_url": f"http://127.0.0.1:{bound}", "token": standin.token, "port": bound}
    if ready_file is not None:
        ready_file.write_text(json.dumps(info), encoding="utf-8")
    print(json.dumps(info), flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.telegram_standin", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--token", default="123456:TEST-standin-token")
    parser.add_argument("--ready-file", type=Path, help="write {api_url, token, port} here once listening")
    parser.add_argument(
        "--require-known-chats",
        action="store_true",
        help="answer 'chat not found' for chats no user has opened",
    )
    args = parser.parse_args()
    try:
        standin = BotApiStandIn(args.token, load_spec(), require_known_chats=args.require_known_chats)
    except (OSError, ValueError) as exc:
        print(f"telegram stand-in: cannot start: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_serve(standin, args.port, args.ready_file))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        print(f"telegram stand-in: cannot listen on 127.0.0.1:{args.port}: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
