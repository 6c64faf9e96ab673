"""The fast path's speed-ups change nothing: n-gram counts equal sklearn's, remembered words detect the same
languages, and large batches on every core equal one process's results."""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from langidentify import Detector, Language

from cxm.text import ngrams, parallel
from cxm.text.engine import OfflineEngine
from cxm.text.language import LanguageDetector
from cxm.text.seed import seed_texts
from cxm.text.sentiment import CharModel

TRICKY = [
    "  Ünïcode\tTAB\u00a0nbsp  a  b ",
    "x",
    "",
    "   ",
    "İstanbul ﬁ ß ŁÓDŹ Ščř",
    "hi\u2028there \x1cX, ok?",
    "😀 emoji 😀😀 漢字",
    "a" * 40,
    "Rychlé doručení, ale kurýr byl nepříjemný. Příště jinde!",
]


@pytest.fixture(scope="module")
def model() -> CharModel:
    items = [i for i in seed_texts() if i.label != "neutral"]
    return CharModel().fit([i.text for i in items], [i.label for i in items])


def texts(n: int) -> list[str]:
    """Seed sentences, varied, and the tricky ones."""
    base = [i.text for i in seed_texts()]
    return [f"{base[i % len(base)]} {base[(7 * i) % len(base)].upper()}" for i in range(n)] + TRICKY


def _sklearn_counts(model: CharModel, documents: list[str]) -> list[list[int]]:
    analyze, vocabulary = model.vectorizer.build_analyzer(), model.vectorizer.vocabulary_
    return [sorted(vocabulary[g] for g in analyze(d) if g in vocabulary) for d in documents]


def test_ngram_counts_equal_sklearns(model: CharModel) -> None:
    documents = texts(300)
    low, high = model.vectorizer.ngram_range
    vocabulary = ngrams.coded(model.vectorizer.vocabulary_, low, high)
    assert vocabulary is not None
    found = ngrams.counts(documents, vocabulary)
    for row, expected in enumerate(_sklearn_counts(model, documents)):
        assert np.repeat(found[row].indices, found[row].data.astype(int)).tolist() == expected
    whole = model.scores(documents)  # sklearn's transform
    assert model.scores_with_clauses(documents, [[] for _ in documents]) == pytest.approx(whole, abs=1e-12)


def test_a_vocabulary_of_too_many_characters_is_counted_by_sklearns_analyzer() -> None:
    assert ngrams.coded({chr(0x4E00 + i) * 2: i for i in range(5000)}, 2, 5) is None
    assert ngrams.coded({"ab": 0, " a": 1}, 2, 5) is not None


def test_large_batches_use_every_core_with_the_results_of_one(model: CharModel) -> None:
    engine = OfflineEngine(char_model=model, embeddings=False, keyphrases="rake")
    batch = texts(4 * parallel.PER_CORE_FROM)
    one_by_one = [found for start in range(0, len(batch), 100) for found in engine.analyze(batch[start : start + 100])]
    assert engine.analyze(batch) == one_by_one
    assert parallel.worth_forking(len(batch)) == min(parallel.cores(), 4)
    assert parallel.worth_forking(parallel.PER_CORE_FROM - 1) == 1
    pids = parallel.in_processes(lambda part: [os.getpid() for _ in part], batch, 2)
    assert pids[0] == os.getpid() != pids[-1] and len(set(pids)) == 2


def test_a_request_thread_never_forks() -> None:
    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(parallel.worth_forking, 10 * parallel.PER_CORE_FROM).result() == 1


def test_remembering_words_leaves_language_detection_unchanged() -> None:
    remembering = LanguageDetector(("en", "cs", "pl", "hr", "ro"))
    plain = Detector(remembering._detector.model)
    documents = [*texts(400), *(i.text.lower() for i in seed_texts()), "Paket nije stigao, ali ok.", "Merci!"]
    for _ in range(2):  # the second round reads every word from memory
        assert [remembering.detect(d) for d in documents] == [
            remembering._within_family(str(found.iso_code)) if (found := plain.detect(d)) is not Language.UNKNOWN
            else "und" for d in documents
        ]  # fmt: skip
        remembering._remembered.cache_clear()


def test_threads_sharing_a_detector_get_the_languages_of_one() -> None:
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads take turns inside a detection (the API's threads and the worker's)
    try:
        documents = [i.text for i in seed_texts()]
        alone = [LanguageDetector(("en", "cs", "pl", "hr", "ro")).detect(d) for d in documents]
        shared = LanguageDetector(("en", "cs", "pl", "hr", "ro"))
        with ThreadPoolExecutor(4) as pool:
            found = list(pool.map(lambda i: [shared.detect(d) for d in documents[i::4]], range(4)))
    finally:
        sys.setswitchinterval(interval)
    assert found == [alone[i::4] for i in range(4)]
