"""The `onnx` engine: a sentence-embedding or classifier model the user supplies, run by ONNX Runtime (no torch).

The model directory holds `model.onnx`, `tokenizer.json` (Hugging Face `tokenizers`) and optionally `cxm.json`:
`{"kind": "classifier" | "embedding", "labels": [...], "max_length": 256, "prefix": "passage: "}`. Nothing is
downloaded: the files are read from the directory, and an embedding model gets a sentiment head trained at load time
on cxm's own seed set. A GPU is used when ONNX Runtime offers CUDA.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from cxm.core.errors import InvalidInput
from cxm.text.seed import LABELS, seed_texts
from cxm.text.sentiment import polarity

BATCH = 64
GPU = "CUDAExecutionProvider"


@dataclass(frozen=True)
class ModelConfig:
    """What `cxm.json` says about the model (defaults: a classifier over negative / neutral / positive)."""

    kind: str = "classifier"
    labels: list[str] = field(default_factory=lambda: list(LABELS))
    max_length: int = 256
    prefix: str = ""


def providers() -> list[str]:
    """CUDA first when ONNX Runtime has it, else the CPU."""
    import onnxruntime

    available = onnxruntime.get_available_providers()
    return [GPU, "CPUExecutionProvider"] if GPU in available else ["CPUExecutionProvider"]


class OnnxModel:
    """Tokenizer + ONNX session over a local directory: embeddings or class logits for texts."""

    def __init__(self, directory: Path) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        if not (directory / "model.onnx").is_file() or not (directory / "tokenizer.json").is_file():
            raise InvalidInput(f"{directory} needs model.onnx and tokenizer.json (CXM_TEXT_MODEL_DIR)")
        config_file = directory / "cxm.json"
        self.config = ModelConfig(**json.loads(config_file.read_text())) if config_file.is_file() else ModelConfig()
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self.tokenizer.enable_truncation(self.config.max_length)
        self.tokenizer.enable_padding()
        self.session = onnxruntime.InferenceSession(str(directory / "model.onnx"), providers=providers())
        self.inputs = {i.name for i in self.session.get_inputs()}

    def run(self, texts: Sequence[str]) -> np.ndarray:
        """The model's first output for the texts, pooled to one row per text."""
        parts = [self._batch(texts[start : start + BATCH]) for start in range(0, len(texts), BATCH)]
        return np.vstack(parts) if parts else np.zeros((0, 0))

    def _batch(self, texts: Sequence[str]) -> np.ndarray:
        encoded = self.tokenizer.encode_batch([self.config.prefix + t for t in texts])
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        output = np.asarray(self.session.run(None, {k: v for k, v in feed.items() if k in self.inputs})[0])
        return _pooled(output, mask) if output.ndim == 3 else output


def _pooled(tokens: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean of the token vectors a text really has (padding left out)."""
    weights = mask[..., None].astype(np.float32)
    return np.asarray((tokens * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1.0))


class OnnxSentiment:
    """Sentiment scores in [-1, 1] from a local ONNX model: class probabilities, or a seed-trained embedding head."""

    def __init__(self, directory: Path) -> None:
        self.model = OnnxModel(directory)
        self.head: Any = _seed_head(self.model) if self.model.config.kind == "embedding" else None

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """P(positive) - P(negative) for each text."""
        if not texts:
            return np.zeros(0)
        output = self.model.run(texts)
        if self.head is not None:
            return polarity(self.head, self.head.predict_proba(_normalised(output)))
        return _class_polarity(output, self.model.config.labels)


def _normalised(vectors: np.ndarray) -> np.ndarray:
    return np.asarray(vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12))


def _class_polarity(logits: np.ndarray, labels: list[str]) -> np.ndarray:
    """Softmax over the classes, then P(positive) - P(negative)."""
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    probabilities = shifted / shifted.sum(axis=1, keepdims=True)
    positive = probabilities[:, labels.index("positive")] if "positive" in labels else 0.0
    negative = probabilities[:, labels.index("negative")] if "negative" in labels else 0.0
    return np.asarray(positive - negative, dtype=float)


def _seed_head(model: OnnxModel) -> Any:
    """A logistic-regression head over the model's embeddings of the seed set (cxm's own sentences)."""
    from sklearn.linear_model import LogisticRegression

    items = seed_texts()
    head = LogisticRegression(C=4.0, max_iter=2000, class_weight="balanced")
    return head.fit(_normalised(model.run([i.text for i in items])), [i.label for i in items])


@lru_cache(maxsize=2)
def onnx_sentiment(directory: str, stamp: float) -> OnnxSentiment:
    """One loaded model per directory and modification time, per process."""
    return OnnxSentiment(Path(directory))


def load(directory: str | Path) -> OnnxSentiment:
    """The sentiment model of a local directory (reloaded when its model.onnx changes)."""
    path = Path(directory).expanduser()
    model_file = path / "model.onnx"
    return onnx_sentiment(str(path), model_file.stat().st_mtime if model_file.is_file() else 0.0)
