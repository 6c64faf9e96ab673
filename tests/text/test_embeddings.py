"""The embedder: each distinct piece embedded once, in bounded batches, split texts joined from their pieces."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from cxm.text import embeddings, engine
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


def test_rows_come_back_in_the_callers_order_across_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embeddings, "BATCH_CHARACTERS", 12)
    model = CountingModel()
    embedder = Embedder(model)
    embedder.embed(["known", "also known"])
    before = len(model.calls)
    texts = ["a much longer text", "known", "mid text", "ok", "a much longer text", "also known", "x"]
    rows = embedder.embed(texts)
    assert model.calls[before:] == [["a much longer text"], ["mid text", "ok", "x"]]  # only the new, in two batches
    np.testing.assert_allclose(rows, CountingModel().passage(texts), rtol=1e-6)


def test_a_texts_row_does_not_depend_on_its_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    """E5 reads each text of a batch on its own (unpadded): caller's order, sorted by length or alone, one row."""
    monkeypatch.setattr(embeddings, "BATCH_CHARACTERS", 120)
    model = embeddings.shared_model()
    texts = [
        "The courier was late again.",
        "Kurýr zase přišel pozdě a balík byl celý promáčklý, takže jsem ho musel reklamovat.",
        "Super!",
        "Obsługa w sklepie była bardzo miła i pomogła mi wybrać odpowiedni rozmiar butów na zimę.",
        "Dostava je kasnila.",
        "Curierul a întârziat din nou.",
    ]
    in_order = Embedder(model).embed(texts)
    by_length = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    sorted_rows = Embedder(model).embed([texts[i] for i in by_length])
    alone = np.asarray([model.passage([t])[0] for t in texts])
    np.testing.assert_allclose(in_order, alone, atol=1e-5)
    np.testing.assert_allclose(sorted_rows, alone[by_length], atol=1e-5)


def test_head_scores_a_text_alike_alone_and_with_its_clauses() -> None:
    head = cold_start_head()
    text = "The delivery was quick, but the courier was rude and the box was crushed."
    with_clauses = head.scores_with_clauses([text], [clauses(text)])
    assert head.scores([text])[0] == pytest.approx(with_clauses[0], abs=1e-6)
    assert with_clauses[1] > 0.2 and with_clauses[2] < -0.2


class SlowModel(CountingModel):
    """A fake model that notes how many of its calls overlap (each call takes a moment, so overlaps would show)."""

    def __init__(self) -> None:
        super().__init__()
        self.running = 0
        self.most_at_once = 0
        self.guard = threading.Lock()

    def passage(self, texts: list[str]) -> np.ndarray:
        with self.guard:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        time.sleep(0.01)
        rows = super().passage(texts)
        with self.guard:
            self.running -= 1
        return rows


def in_threads(action: Callable[[int], object], count: int = 8) -> list[object]:
    """What `action(i)` returned in each of `count` threads started together."""
    start = threading.Barrier(count)

    def run(i: int) -> object:
        start.wait()
        return action(i)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def test_threads_load_the_shared_model_once(monkeypatch: pytest.MonkeyPatch) -> None:
    loads: list[int] = []

    def slow_load() -> CountingModel:
        loads.append(1)
        time.sleep(0.05)
        return CountingModel()

    monkeypatch.setattr(embeddings, "E5", slow_load)
    monkeypatch.setattr(embeddings, "_models", [])
    models = in_threads(lambda _: embeddings.shared_model())
    assert len(loads) == 1 and all(m is models[0] for m in models)


def test_threads_build_the_cold_start_head_once(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[int] = []

    def slow_head(embedder: Embedder) -> Embedder:
        built.append(1)
        time.sleep(0.05)
        return embedder

    monkeypatch.setattr(engine, "load_head", slow_head)
    monkeypatch.setattr(engine, "shared_model", CountingModel)
    monkeypatch.setattr(engine, "_heads", [])
    heads = in_threads(lambda _: engine.cold_start_head())
    assert len(built) == 1 and all(h is heads[0] for h in heads)


def test_threads_share_one_embedder_one_batch_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embeddings, "REMEMBERED", 3)  # texts are forgotten while other threads read them
    model = SlowModel()
    embedder = Embedder(model)
    texts = [f"text number {i}" for i in range(6)]
    found = in_threads(lambda i: embedder.embed(texts[i % 3 : i % 3 + 4]))
    expected = CountingModel().passage(texts)
    for i, rows in enumerate(found):
        np.testing.assert_allclose(rows, expected[i % 3 : i % 3 + 4], rtol=1e-6)
    assert model.most_at_once == 1 and len(embedder.memory) <= 3
