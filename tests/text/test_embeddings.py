"""The embedder: each distinct piece embedded once, in bounded batches, split texts joined from their pieces."""

from __future__ import annotations

import numpy as np
import pytest

from cxm.text import embeddings
from cxm.text.embeddings import Embedder
from cxm.text.engine import cold_start_head
from cxm.text.sentiment import clauses, pieces


class CountingModel:
    """A fake model: a text's vector is its length and vowel count, normalised; every call is recorded."""

    dim = 2

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def passage(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        rows = np.array([[len(t) + 1.0, sum(c in "aeiou" for c in t) + 1.0] for t in texts])
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_identical_texts_are_embedded_once_and_remembered() -> None:
    model = CountingModel()
    embedder = Embedder(model)
    first = embedder.embed(["fast", "slow", "fast"])
    again = embedder.embed(["slow"])
    assert model.calls == [["fast", "slow"]]
    assert first[0].tolist() == first[2].tolist() and again[0].tolist() == first[1].tolist()


def test_memory_keeps_only_the_most_recent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embeddings, "REMEMBERED", 2)
    embedder = Embedder(CountingModel())
    embedder.embed(["a", "b", "c"])
    assert list(embedder.memory) == ["b", "c"]


def test_batches_are_bounded_in_characters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embeddings, "BATCH_CHARACTERS", 10)
    model = CountingModel()
    Embedder(model).embed(["aaaa", "bbbb", "cccc", "d" * 30])
    assert model.calls == [["aaaa", "bbbb"], ["cccc"], ["d" * 30]]


def test_a_long_text_is_read_up_to_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embeddings, "MAX_CHARACTERS", 5)
    model = CountingModel()
    Embedder(model).embed(["abcdefgh", "abcdexyz"])
    assert model.calls == [["abcde"]]


def test_a_split_text_is_the_length_weighted_mean_of_its_pieces() -> None:
    model = CountingModel()
    text = "Fast delivery. But the staff were rude!"
    parts = pieces(text)
    rows = Embedder(model).embed_joined([parts], clauses(text))
    assert model.calls == [parts]  # the clauses are among the pieces: embedded once, in the same call
    alone = CountingModel().passage(parts)
    expected = (alone * np.array([[len(p)] for p in parts])).sum(axis=0)
    np.testing.assert_allclose(rows[0], expected / np.linalg.norm(expected), rtol=1e-6)
    np.testing.assert_allclose(rows[1:], alone, rtol=1e-6)


def test_head_scores_a_text_alike_alone_and_with_its_clauses() -> None:
    head = cold_start_head()
    text = "The delivery was quick, but the courier was rude and the box was crushed."
    with_clauses = head.scores_with_clauses([text], [clauses(text)])
    assert head.scores([text])[0] == pytest.approx(with_clauses[0], abs=1e-6)
    assert with_clauses[1] > 0.2 and with_clauses[2] < -0.2
