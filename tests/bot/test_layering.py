"""The bot only translates (issue 15.2): no module in bot/ but the one that starts the application (app.py)
imports the ORM or SQLAlchemy, or uses a database session or a query. Reads and changes go through services
that take ids and plain values and give back plain views."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

BOT = REPO / "bot"
STARTS_THE_APPLICATION = {"app.py"}
FORBIDDEN_MODULES = ("sqlalchemy", "review_watch.storage.orm")
QUERY_CALLS = {"query", "execute", "scalar", "scalars", "merge", "expunge", "refresh", "flush", "get_one"}


def _forbidden_module(name: str) -> bool:
    return any(name == module or name.startswith(module + ".") for module in FORBIDDEN_MODULES)


def offences(path: Path, root: Path = REPO) -> list[str]:
    """`module:line: what` for each database use in one module (named from `root`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    where = path.relative_to(root).as_posix()
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [f"{where}:{node.lineno}: imports {alias.name}" for alias in node.names
                      if _forbidden_module(alias.name)]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if _forbidden_module(node.module):
                found.append(f"{where}:{node.lineno}: imports from {node.module}")
            elif node.module == "review_watch.storage":
                found += [f"{where}:{node.lineno}: imports review_watch.storage.orm" for alias in node.names
                          if alias.name == "orm"]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in QUERY_CALLS:
            found.append(f"{where}:{node.lineno}: calls .{node.func.attr}(")
        elif isinstance(node, ast.Attribute) and "session" in node.attr.lower():
            found.append(f"{where}:{node.lineno}: uses .{node.attr}")
        elif isinstance(node, ast.Name) and "session" in node.id.lower():
            found.append(f"{where}:{node.lineno}: uses {node.id}")
    return sorted(found, key=lambda offence: int(offence.split(":")[1]))


def test_no_bot_module_but_the_start_up_touches_the_database() -> None:
    modules = sorted(p for p in BOT.glob("*.py") if p.name not in STARTS_THE_APPLICATION)
    assert len(modules) >= 8  # handlers, messages, please_look, sender, formatting, commands ...
    problems = [offence for path in modules for offence in offences(path)]
    assert not problems, "the bot reaches the database itself:\n" + "\n".join(problems)


def test_the_scan_names_the_module_and_line(tmp_path: Path) -> None:
    sample = tmp_path / "bot" / "sample.py"
    sample.parent.mkdir()
    sample.write_text(
        "from sqlalchemy import select\n"
        "import review_watch.storage.orm\n"
        "from review_watch.storage import orm\n"
        "\n"
        "def look(uow, Staff):\n"
        "    uow.session.scalar(select(Staff))\n"
        "    return uow.query(Staff)\n", encoding="utf-8")
    assert sorted(offences(sample, root=tmp_path)) == [
        "bot/sample.py:1: imports from sqlalchemy",
        "bot/sample.py:2: imports review_watch.storage.orm",
        "bot/sample.py:3: imports review_watch.storage.orm",
        "bot/sample.py:6: calls .scalar(",
        "bot/sample.py:6: uses .session",
        "bot/sample.py:7: calls .query(",
    ]
