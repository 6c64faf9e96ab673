"""The TextEngine protocol and the default offline engine."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Protocol

import numpy as np

from cxm.core.errors import InvalidInput
from cxm.text import parallel
from cxm.text.coldstart import load_head
from cxm.text.embeddings import Embedder, shared_model
from cxm.text.keyphrases import keyphrases as phrases_of
from cxm.text.keyphrases import quick_keyphrases
from cxm.text.language import LanguageDetector
from cxm.text.sentiment import CharModel, EmbeddingHead, Scorer, Sentiment, clauses, label_for

DEFAULT_LANGUAGES = ("en", "cs", "pl", "hr", "ro")
KEYPHRASES = ("yake", "rake")


@dataclass(frozen=True)
class TextAnalysis:
    """What the engine found in one text."""

    language: str
    sentiment: Sentiment
    keyphrases: list[str] = field(default_factory=list)


class TextEngine(Protocol):
    """Anything that analyses texts: the offline default, or a heavier engine plugged in."""

    def analyze(
        self, texts: Sequence[str], *, language: str | None = None, keyphrases: bool = True
    ) -> list[TextAnalysis]:
        """Language, sentiment and (unless turned off) keyphrases for each text."""
        ...


class OfflineEngine:
    """Language by langidentify, sentiment by the E5 head (and the company's character model), YAKE keyphrases."""

    def __init__(
        self,
        *,
        languages: Sequence[str] = DEFAULT_LANGUAGES,
        char_model: CharModel | None = None,
        embeddings: bool = True,
        head: Scorer | None = None,
        keyphrases: str = "yake",
    ) -> None:
        self.detector = detector_for(tuple(languages))
        # `head`: another sentiment model in place of the shipped E5 head (the onnx engine's model).
        self.head: Scorer | None = head if head is not None else cold_start_head() if embeddings else None
        self.char_model = char_model
        # `rake`: the RAKE-style extractor, much faster than YAKE (for large batches).
        if keyphrases not in KEYPHRASES:
            raise InvalidInput(f"unknown keyphrase extractor '{keyphrases}' (CXM_TEXT_KEYPHRASES: yake or rake)")
        self.phrases = quick_keyphrases if keyphrases == "rake" else phrases_of

    def analyze(
        self, texts: Sequence[str], *, language: str | None = None, keyphrases: bool = True
    ) -> list[TextAnalysis]:
        """Language, sentiment and (unless turned off) keyphrases for each text; a large batch on every core."""
        work = partial(self._analyze, language=language, keyphrases=keyphrases)
        # The embedding model stays in one process (its batches are matrix products that use the cores already).
        processes = parallel.worth_forking(len(texts)) if self.head is None else 1
        return parallel.in_processes(work, texts, processes) if processes > 1 else work(texts)

    def _analyze(self, texts: Sequence[str], *, language: str | None, keyphrases: bool) -> list[TextAnalysis]:
        languages = [language or self.detector.detect(t) for t in texts]
        sentiments = self.sentiments(texts)
        return [
            TextAnalysis(lang, s, self.phrases(t, lang) if keyphrases else [])
            for t, lang, s in zip(texts, languages, sentiments, strict=True)
        ]

    def sentiments(self, texts: Sequence[str]) -> list[Sentiment]:
        """Sentiment of each text; clauses of longer texts are scored too, to find `mixed` ones."""
        parts = [clauses(t) for t in texts]
        split = [p if len(p) > 1 else [] for p in parts]
        scores = self._scores_with_clauses(texts, split)
        whole, rest = scores[: len(texts)], iter(scores[len(texts) :].tolist())
        return [
            Sentiment(round(float(s), 4), label_for(float(s), [next(rest) for _ in p]))
            for s, p in zip(whole, split, strict=True)
        ]

    def _scores_with_clauses(self, texts: Sequence[str], split: list[list[str]]) -> np.ndarray:
        """Scores of the texts then of their clauses: the mean of the models the engine has."""
        flat = [*texts, *(c for p in split for c in p)]
        models: list[Scorer] = [m for m in (self.head, self.char_model) if m is not None]
        if not models or not flat:
            return np.zeros(len(flat))
        found = [
            m.scores_with_clauses(texts, split) if isinstance(m, CharModel | EmbeddingHead) else m.scores(flat)
            for m in models
        ]
        return np.asarray(np.clip(np.mean(found, axis=0), -1.0, 1.0), dtype=float)

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """Scores in [-1, 1]: the mean of the models the engine has."""
        models: list[Scorer] = [m for m in (self.head, self.char_model) if m is not None]
        if not models or not texts:
            return np.zeros(len(texts))
        return np.asarray(np.clip(np.mean([m.scores(texts) for m in models], axis=0), -1.0, 1.0), dtype=float)


# Detectors by languages, built under a lock: two threads asking first (the API's and the worker's) built two.
_detectors: dict[tuple[str, ...], LanguageDetector] = {}
_loading = threading.Lock()
DETECTORS = 4


def detector_for(languages: tuple[str, ...]) -> LanguageDetector:
    """One detector per set of languages per process (loading one takes seconds; built once, whichever threads ask)."""
    with _loading:
        if languages not in _detectors:
            if len(_detectors) >= DETECTORS:
                _detectors.clear()
            _detectors[languages] = LanguageDetector(languages)
        return _detectors[languages]


def forget_detectors() -> None:
    """Drop the detectors built so far (and what they remember of words seen): the next one is built afresh."""
    with _loading:
        _detectors.clear()


# The shipped head and its embedder (with its memory), built by the first thread that needs them.
_heads: list[EmbeddingHead] = []
_building = threading.Lock()


def cold_start_head() -> EmbeddingHead:
    """The shipped seed-trained head over one process-wide embedder (built once, whichever threads ask)."""
    with _building:
        if not _heads:
            _heads.append(load_head(Embedder(shared_model())))
        return _heads[0]
