"""Frozen encoder features ([CLS] hidden state and mean pooling) with an on-disk cache, for training."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModel, AutoTokenizer


def _key(text: str, max_length: int) -> str:
    return hashlib.sha1(f"{max_length}\0{text}".encode()).hexdigest()


class FeatureCache:
    """Rows of [CLS | mean] (2 x hidden) per text, kept in one .npz file."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.rows: dict[str, np.ndarray] = {}
        if path is not None and path.exists():
            with np.load(path) as data:
                self.rows = dict(zip(data["keys"].tolist(), data["values"], strict=True))

    def save(self) -> None:
        if self.path is None or not self.rows:
            return
        keys = np.array(list(self.rows))
        np.savez(self.path, keys=keys, values=np.stack(list(self.rows.values())))


def encode(
    texts: Sequence[str],
    encoder_dir: Path,
    cache: FeatureCache,
    max_length: int = 256,
    batch_size: int = 32,
) -> tuple[np.ndarray, np.ndarray]:
    """Returns ([CLS] hidden states, mean-pooled hidden states), both [n, hidden], float32."""
    keys = [_key(t, max_length) for t in texts]
    missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in cache.rows}.items())
    if missing:
        tokenizer = AutoTokenizer.from_pretrained(encoder_dir)
        model = AutoModel.from_pretrained(encoder_dir, dtype=torch.float32).eval()
        order = sorted(missing, key=lambda kt: len(kt[1]))
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                chunk = order[start : start + batch_size]
                enc = tokenizer(
                    [t for _, t in chunk], padding=True, truncation=True, max_length=max_length,
                    return_tensors="pt",
                )
                hidden = model(**enc).last_hidden_state
                mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                mean = (hidden * mask).sum(1) / mask.sum(1)
                both = torch.cat([hidden[:, 0], mean], dim=1).numpy()
                for (key, _), row in zip(chunk, both, strict=True):
                    cache.rows[key] = row
                if (start // batch_size) % 50 == 49:
                    cache.save()
        cache.save()
    matrix = np.stack([cache.rows[k] for k in keys])
    hidden_size = matrix.shape[1] // 2
    return matrix[:, :hidden_size], matrix[:, hidden_size:]


class LayerInputCache:
    """Per-text hidden states entering one encoder layer ([tokens, hidden], float16), in one .npz file."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.rows: dict[str, np.ndarray] = {}
        if path is not None and path.exists():
            with np.load(path) as data:
                flat, offsets = data["flat"], data["offsets"]
                for i, key in enumerate(data["keys"].tolist()):
                    self.rows[key] = flat[offsets[i] : offsets[i + 1]]

    def save(self) -> None:
        if self.path is None or not self.rows:
            return
        arrays = list(self.rows.values())
        offsets = np.cumsum([0] + [len(a) for a in arrays])
        np.savez(self.path, keys=np.array(list(self.rows)), flat=np.concatenate(arrays), offsets=offsets)


def encode_layer_inputs(
    texts: Sequence[str],
    encoder_dir: Path,
    cache: LayerInputCache,
    layer: int,
    max_length: int = 128,
    batch_size: int = 32,
) -> list[np.ndarray]:
    """The hidden states that enter encoder layer `layer` (0-based), per text, without padding."""
    keys = [_key(f"layer{layer}\0{t}", max_length) for t in texts]
    missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in cache.rows}.items())
    if missing:
        tokenizer = AutoTokenizer.from_pretrained(encoder_dir)
        model = AutoModel.from_pretrained(encoder_dir, dtype=torch.float32).eval()
        model.encoder.layer = model.encoder.layer[:layer]
        order = sorted(missing, key=lambda kt: len(kt[1]))
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                chunk = order[start : start + batch_size]
                enc = tokenizer(
                    [t for _, t in chunk], padding=True, truncation=True, max_length=max_length,
                    return_tensors="pt",
                )
                hidden = model(**enc).last_hidden_state.half().numpy()
                lengths = enc["attention_mask"].sum(1).tolist()
                for (key, _), row, n in zip(chunk, hidden, lengths, strict=True):
                    cache.rows[key] = row[:n].copy()
        cache.save()
    return [cache.rows[k] for k in keys]
