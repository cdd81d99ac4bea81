"""Model folders for the sentiment tests: a tiny one built here, and the builtin one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
from transformers import BertConfig, BertForSequenceClassification

from sentiment import SentimentClassifier, build_builtin_model, load_classifier

TINY_WORDS = ["<s>", "<pad>", "</s>", "<unk>", "good", "bad", "service", "the", "was", "very", "ok", "."]
STAR_LABELS = {0: "1 star", 1: "2 stars", 2: "3 stars", 3: "4 stars", 4: "5 stars"}


def write_tiny_model(folder: Path, id2label: dict[int, str], max_positions: int = 16) -> Path:
    """A real (random) BERT sequence classifier with a word-level tokenizer, saved the standard way."""
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = Tokenizer(models.WordLevel({w: i for i, w in enumerate(TINY_WORDS)}, unk_token="<unk>"))
    tokenizer.normalizer = normalizers.Lowercase()
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    tokenizer.save(str(folder / "tokenizer.json"))
    (folder / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "PreTrainedTokenizerFast", "bos_token": "<s>", "eos_token": "</s>",
        "cls_token": "<s>", "sep_token": "</s>", "pad_token": "<pad>", "unk_token": "<unk>",
        "model_max_length": max_positions,
    }))
    config = BertConfig(
        vocab_size=len(TINY_WORDS), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=32, max_position_embeddings=max_positions, pad_token_id=1, initializer_range=1.0,
        id2label=id2label, label2id={v: k for k, v in id2label.items()},
    )
    torch.manual_seed(0)
    BertForSequenceClassification(config).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_star_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_model(tmp_path_factory.mktemp("tiny-stars"), STAR_LABELS)


@pytest.fixture(scope="session")
def builtin_folder() -> Path:
    return build_builtin_model()


@pytest.fixture(scope="session")
def builtin(builtin_folder: Path) -> SentimentClassifier:
    return load_classifier("builtin")
