"""The judgement: a sequence classifier plus star-rating fusion, language detection and flags."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer, PretrainedConfig, PreTrainedTokenizerBase
from transformers.utils import logging as hf_logging

from sentiment.builtin import build_builtin_model
from sentiment.flags import FlagRules
from sentiment.fusion import decide
from sentiment.labels import LABELS, label_matrix
from sentiment.language import detect_languages
from sentiment.language import preload as preload_languages
from sentiment.types import PRECISIONS, Judgement, ModelLoadError, Precision, TextToJudge

NEG, NEU, POS = range(3)
WINDOW_OVERLAP = 32  # tokens shared by consecutive windows of a long text
TOKEN_BUDGET = 2048  # padded tokens per forward pass; 1,024 to 4,096 measured within the noise of each other
MAX_BATCH = 64
# Batch widths are rounded up to a multiple of this, so that batch shapes repeat: in bfloat16 the CPU's matrix
# library (oneDNN) builds kernels for each new shape, and its tiles work in rows of 16. In float32 (MKL)
# a new shape costs nothing and the padding would only add work.
WIDTH_STEP = {"bfloat16": 16}
FORCED_COMPLAINT_SCORE = 0.75  # the least confidence of a complaint made by a 1-2 star rating
@dataclass
class LoadedModel:
    model: torch.nn.Module
    tokenizer: PreTrainedTokenizerBase
    labels: torch.Tensor  # [n_model_classes, 3]
    max_length: int
    precision: str  # float32, bfloat16 or int8: what the weights run in


_cache: dict[str, LoadedModel] = {}
_cache_lock = threading.Lock()


def native_bfloat16() -> bool:
    """Whether this CPU multiplies bfloat16 in hardware (AVX512-BF16 or AMX). Elsewhere torch emulates it,
    more slowly than float32."""
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(torch.cpu, check, lambda: False)()) for check in checks)


def resolve_precision(precision: Precision | str, native_bf16: bool | None = None) -> str:
    """"auto" is bfloat16 where the CPU has it in hardware, else float32; the others stand for themselves."""
    if precision not in PRECISIONS:
        raise ValueError(f"sentiment precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision != "auto":
        return precision
    return "bfloat16" if (native_bfloat16() if native_bf16 is None else native_bf16) else "float32"


def _load(model: str, cache_dir: Path | None, precision: str) -> LoadedModel:
    if model == "builtin":
        source = str(build_builtin_model())
    else:
        local = Path(model).expanduser()
        if local.exists():
            if not (local / "config.json").exists():
                raise ModelLoadError(f"sentiment model folder {local} has no config.json")
            source = str(local)
        elif model.startswith((".", "/", "~")) or model.count("/") > 1:
            raise ModelLoadError(f"sentiment model folder {model} does not exist")
        else:
            source = model
    hf_logging.disable_progress_bar()
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, cache_dir=cache_dir)
        network = AutoModelForSequenceClassification.from_pretrained(
            source, cache_dir=cache_dir, dtype=torch.float32
        )
    except Exception as exc:  # transformers raises many kinds (OSError, ValueError, HTTP errors)
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelLoadError(f"cannot load sentiment model {model!r}: {first_line}") from None
    network.eval()
    if precision == "bfloat16":
        network = network.to(torch.bfloat16)
    elif precision == "int8":
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch marks quantize_dynamic deprecated; it still works
            network = torch.ao.quantization.quantize_dynamic(network, {torch.nn.Linear}, dtype=torch.qint8)
    labels = _labels_of(network.config)
    return LoadedModel(network, tokenizer, labels, _max_length(tokenizer, network.config), precision)


def _labels_of(config: PretrainedConfig) -> torch.Tensor:
    id2label = getattr(config, "id2label", None) or {}
    return label_matrix({int(k): v for k, v in id2label.items()})


def _max_length(tokenizer: PreTrainedTokenizerBase, config: PretrainedConfig) -> int:
    limit = getattr(tokenizer, "model_max_length", 512)
    positions = getattr(config, "max_position_embeddings", 512)
    return int(min(limit if limit < 100_000 else 512, positions, 512))


def load_model(model: str, cache_dir: Path | None = None, precision: Precision | str = "auto") -> LoadedModel:
    precision = resolve_precision(precision)
    key = f"{model}\0{precision}"
    with _cache_lock:
        if key not in _cache:
            _cache[key] = _load(model, cache_dir, precision)
        return _cache[key]


def combine_windows(window_probs: torch.Tensor, sizes: Sequence[int], owner: Sequence[int], n: int) -> torch.Tensor:
    """Per text: the token-weighted mean of its windows' probabilities, unless one window is negative
    on its own (p > 0.5): then that window decides, so a long preamble does not dilute a complaint."""
    totals = torch.zeros(n, len(LABELS))
    weights = torch.zeros(n)
    worst = torch.zeros(n, len(LABELS))
    for i, text_index in enumerate(owner):
        totals[text_index] += window_probs[i] * float(sizes[i])
        weights[text_index] += float(sizes[i])
        if window_probs[i, NEG] > worst[text_index, NEG]:
            worst[text_index] = window_probs[i]
    combined = totals / weights.clamp(min=1.0).unsqueeze(1)
    return torch.where((worst[:, NEG] > 0.5).unsqueeze(1), worst, combined)


def plan_batches(lengths: Sequence[int], limit: int, step: int = 1) -> list[tuple[list[int], int]]:
    """Groups windows of these token lengths into forward passes: (window indices, padded width). Windows of
    like length go together (little padding), widths are multiples of step (but at most limit, which no
    window exceeds), and no pass holds more than TOKEN_BUDGET padded tokens or MAX_BATCH windows, except a
    single window longer than the budget."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    plan: list[tuple[list[int], int]] = []
    start = 0
    while start < len(order):
        end, width = start, 0
        while end < len(order) and end - start < MAX_BATCH:
            wider = min(-(-lengths[order[end]] // step) * step, limit)
            if (end - start + 1) * wider > TOKEN_BUDGET and end > start:
                break
            end, width = end + 1, wider
        plan.append((order[start:end], width))
        start = end
    return plan


class SentimentClassifier:
    def __init__(
        self,
        loaded: LoadedModel,
        threshold: float = 0.5,
        competitors: Sequence[str] = (),
        unsure_band: float = 0.0,
        weak_languages: Sequence[str] = (),
    ) -> None:
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"sentiment threshold must be between 0 and 1, got {threshold}")
        if not 0.0 <= unsure_band < 0.5:
            raise ValueError(f"sentiment unsure_band must be at least 0 and below 0.5, got {unsure_band}")
        self.loaded = loaded
        self.threshold = threshold
        self.unsure_band = unsure_band
        self.weak_languages = frozenset(weak_languages)
        self.flag_rules = FlagRules(competitors)

    def text_probabilities(self, texts: Sequence[str]) -> torch.Tensor:
        """[n, 3] negative/neutral/positive from the model alone. Long texts are split into overlapping
        windows; a text's probabilities are the token-weighted mean over its windows."""
        if not texts:
            return torch.zeros(0, len(LABELS))
        tok, m = self.loaded.tokenizer, self.loaded.max_length
        encoded = tok(
            list(texts),
            truncation=True,
            max_length=m,
            stride=min(WINDOW_OVERLAP, m // 4),
            return_overflowing_tokens=True,
            padding=False,
        )
        windows: list[list[int]] = encoded["input_ids"]
        owner: list[int] = encoded.get("overflow_to_sample_mapping", list(range(len(windows))))
        window_probs = torch.zeros(len(windows), len(LABELS))
        pad = tok.pad_token_id if tok.pad_token_id is not None else 0
        with torch.inference_mode():
            step = WIDTH_STEP.get(self.loaded.precision, 1)
            for batch, width in plan_batches([len(w) for w in windows], limit=m, step=step):
                ids = torch.full((len(batch), width), pad, dtype=torch.long)
                mask = torch.zeros((len(batch), width), dtype=torch.long)
                for row, i in enumerate(batch):
                    ids[row, : len(windows[i])] = torch.tensor(windows[i])
                    mask[row, : len(windows[i])] = 1
                logits = self.loaded.model(input_ids=ids, attention_mask=mask).logits.float()
                window_probs[batch] = torch.softmax(logits, dim=-1) @ self.loaded.labels
        return combine_windows(window_probs, [len(w) for w in windows], owner, len(texts))

    def judge(self, items: Sequence[TextToJudge]) -> list[Judgement]:
        texts = [f"{item.title}. {item.text}" if item.title else item.text for item in items]
        probs = self.text_probabilities(texts)
        languages = detect_languages(texts, [item.language_hint for item in items])
        out = []
        for item, text, p, language in zip(items, texts, probs, languages, strict=True):
            p_negative = float(p[NEG])
            decision = decide(
                p_negative,
                self.threshold,
                item.rating,
                item.rating_max,
                unsure_band=self.unsure_band,
                weak_language=language in self.weak_languages,
            )
            flags = self.flag_rules(text)
            negative = decision.negative or flags.any_alarm
            if negative:
                label = "negative"
                score = max(p_negative, FORCED_COMPLAINT_SCORE) if decision.forced_by_rating else p_negative
            else:
                label = LABELS[NEU] if p[NEU] >= p[POS] else LABELS[POS]
                score = float(max(p[NEU], p[POS]))
            out.append(
                Judgement(
                    label=label,
                    score=round(score, 4),
                    negative=negative,
                    language=language,
                    churn_intent=flags.churn_intent,
                    competitor=flags.competitor,
                    threat=flags.threat,
                    staff_abuse=flags.staff_abuse,
                    negative_probability=round(p_negative, 4),
                    unsure=decision.unsure and not flags.any_alarm,
                )
            )
        return out


def usable_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def set_threads() -> None:
    torch.set_num_threads(usable_cores())


def load_classifier(
    model: str,
    *,
    threshold: float = 0.5,
    competitors: Sequence[str] = (),
    cache_dir: Path | None = None,
    precision: Precision | str = "auto",
    unsure_band: float = 0.0,
    weak_languages: Sequence[str] = (),
) -> SentimentClassifier:
    """model: "builtin", a Hugging Face hub id, or a local folder. The model loads once per process.
    precision: "auto" runs the weights in bfloat16 where the CPU has it in hardware, else in float32; "int8"
    (dynamic quantisation of the Linear layers) costs precision, so nothing chooses it unless asked
    (measured in docs/model.md). unsure_band and weak_languages: see sentiment.fusion."""
    set_threads()
    loaded = load_model(model, cache_dir, precision)
    preload_languages()
    return SentimentClassifier(
        loaded, threshold=threshold, competitors=competitors, unsure_band=unsure_band, weak_languages=weak_languages
    )
