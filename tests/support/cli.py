"""Runs the real `review-watch` command in a subprocess, as a user or cron would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def review_watch(*args: str, config: Path | None, timeout: float = 300, check: bool = True,
                 env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """config None: no --config (a command that needs none, such as `demo`)."""
    done = subprocess.run(
        [sys.executable, "-m", "review_watch.entrypoints.cli", *args, *(["--config", str(config)] if config else [])],
        cwd=REPO, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
    )
    if check and done.returncode not in (0,):
        raise AssertionError(f"review-watch {' '.join(args)} exited {done.returncode}:\n{done.stderr[-3000:]}")
    return done


def start_review_watch(*args: str, config: Path, env: dict[str, str] | None = None,
                       log: Path | None = None) -> subprocess.Popen[str]:
    sink = open(log, "w", encoding="utf-8") if log else subprocess.DEVNULL  # noqa: SIM115 - closed by the caller
    return subprocess.Popen(
        [sys.executable, "-m", "review_watch.entrypoints.cli", *args, "--config", str(config)],
        cwd=REPO, stdout=sink, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
    )
