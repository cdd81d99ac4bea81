"""The import contract (pyproject.toml [tool.importlinter], run by `make lint`) holds, and it fails the build
when a service imports the bot."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports() -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=REPO, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(REPO)})


def test_the_import_contract_is_kept() -> None:
    done = lint_imports()
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "0 broken" in done.stdout


def test_a_service_that_imports_the_bot_breaks_it() -> None:
    probe = REPO / "review_watch" / "services" / f"_import_contract_probe_{os.getpid()}.py"
    probe.write_text('"""A service that reaches into an adapter: never commit this."""\n\nimport bot.formatting\n',
                     encoding="utf-8")
    try:
        done = lint_imports()
    finally:
        probe.unlink()
    assert done.returncode != 0
    assert "The services import no adapter or entry point BROKEN" in done.stdout
    assert f"review_watch.services.{probe.stem} -> bot.formatting" in done.stdout, done.stdout[-3000:]
