"""The offline engine: language, sentiment and keyphrases, with nothing reaching the network."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from pydantic import ValidationError

from cxm.config import Settings
from cxm.core.errors import InvalidInput
from cxm.hub import Hub
from cxm.text import engine as engine_module
from cxm.text.coldstart import chosen_c, seed_digest, shipped_digest
from cxm.text.engine import OfflineEngine, detector_for
from cxm.text.keyphrases import keyphrases, quick_keyphrases, stopwords
from cxm.text.seed import SEED_LANGUAGES, seed_texts
from cxm.text.sentiment import CharModel, clauses, label_for
from tests.test_cli import CXM

LANGUAGES = ("en", "cs", "pl", "hr", "ro")


@pytest.fixture(scope="module")
def engine() -> OfflineEngine:
    return OfflineEngine(languages=LANGUAGES)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Zásilka dorazila rychle a obsluha byla milá.", "cs"),
        ("Przesyłka dotarła szybko, obsługa była miła.", "pl"),
        ("Paket je stigao brzo, a osoblje je bilo ljubazno.", "hr"),
        ("Coletul a ajuns repede și personalul a fost amabil.", "ro"),
        ("The parcel arrived quickly and the staff were kind.", "en"),
        ("Zásielka prišla rýchlo a všetko bolo v poriadku.", "sk"),
        ("Пакет је стигао брзо и особље је било љубазно.", "hr"),  # noqa: RUF001 (Serbian Cyrillic)
        ("12345 !!!", "und"),
    ],
)
def test_language_is_a_configured_one_a_neighbour_or_the_family_member(text: str, language: str) -> None:
    assert detector_for(LANGUAGES).detect(text) == language


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Fantastic service, the staff were so helpful. Thank you!", "positive"),
        ("Výborná obsluha a rychlé doručení, moc děkuji.", "positive"),
        ("Bardzo polecam, wszystko przyszło na czas i w idealnym stanie.", "positive"),
        ("Nikad više, paket je kasnio tri tjedna i nitko se ne javlja.", "negative"),
        ("Servicii groaznice, produsul s-a stricat după o zi și nimeni nu m-a ajutat.", "negative"),
        ("The delivery was quick, but the courier was rude and the box was crushed.", "mixed"),
    ],
)
def test_sentiment_labels_clear_texts(engine: OfflineEngine, text: str, label: str) -> None:
    (analysis,) = engine.analyze([text])
    assert analysis.sentiment.label == label
    assert -1.0 <= analysis.sentiment.score <= 1.0


def test_a_given_language_skips_detection(engine: OfflineEngine) -> None:
    assert [a.language for a in engine.analyze(["ok", "super"], language="pl")] == ["pl", "pl"]


def test_labels_follow_scores_and_clauses() -> None:
    assert [label_for(0.5), label_for(-0.5), label_for(0.1)] == ["positive", "negative", "neutral"]
    assert label_for(0.0, [0.7, -0.6]) == "mixed"
    assert clauses("Fast delivery. But the staff were rude!") == ["Fast delivery", "But the staff were rude!"]


def test_keyphrases_use_yake_with_merged_stopwords() -> None:
    found = keyphrases("Kurýr přišel pozdě a zásilka byla poškozená, kurýr nebyl ochotný.", "cs")
    assert found and all(p.split()[0].lower() not in stopwords("cs") for p in found)
    assert {"který", "ktery"} <= stopwords("cs")
    assert keyphrases("   ", "en") == []


def test_seed_set_covers_each_language_with_every_label() -> None:
    items = seed_texts()
    for language in SEED_LANGUAGES:
        labels = [i.label for i in items if i.language == language]
        assert len(labels) >= 100 and {"negative", "neutral", "positive"} == set(labels)


def test_shipped_head_was_trained_from_the_current_seed() -> None:
    assert shipped_digest() == seed_digest()


def test_char_model_survives_storage_without_pickle() -> None:
    texts = ["fast and friendly", "slow and rude", "friendly staff", "rude staff", "fast", "slow delivery"] * 3
    labels = ["positive", "negative", "positive", "negative", "positive", "negative"] * 3
    model = CharModel().fit(texts, labels)
    restored = CharModel.from_bytes(model.to_bytes())
    assert restored.scores(["friendly and fast"]).tolist() == pytest.approx(
        model.scores(["friendly and fast"]).tolist()
    )
    assert restored.scores(["friendly and fast"])[0] > 0 > restored.scores(["rude and slow"])[0]


GUARDED = """
import socket, sys
def refuse(*args, **kwargs):
    raise RuntimeError("network access attempted")
socket.socket.connect = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
from cxm.text.engine import OfflineEngine
(a,) = OfflineEngine().analyze(["Skvělá obsluha, děkuji."])
print(a.language, a.sentiment.label)
"""


def test_engine_runs_with_the_network_refused() -> None:
    env = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", GUARDED], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["cs", "positive"]


def test_keyphrase_extractor_is_a_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    text = "The parcel arrived late and the delivery driver was rude to my neighbour."
    monkeypatch.setenv("CXM_TEXT_KEYPHRASES", "rake")
    monkeypatch.setenv("CXM_DATABASE_URL", f"sqlite:///{tmp_path / 'cxm.db'}")
    hub = Hub()
    try:
        [found] = hub.text.analyze([text], language="en")["keyphrases"]
    finally:
        hub.close()
    assert found == quick_keyphrases(text, "en") != keyphrases(text, "en")
    with pytest.raises(InvalidInput, match="yake or rake"):
        OfflineEngine(languages=LANGUAGES, keyphrases="bert")
    monkeypatch.setenv("CXM_TEXT_KEYPHRASES", "bert")
    with pytest.raises(ValidationError):
        Settings()
    refused = subprocess.run([CXM, "text", "models"], capture_output=True, text=True, env=dict(os.environ))
    assert refused.returncode == 1
    assert refused.stderr.strip() == "error: CXM_TEXT_KEYPHRASES: Input should be 'yake' or 'rake' (got 'bert')"


def test_regularisation_is_the_strongest_within_one_standard_error_of_the_best() -> None:
    noisy = {0.5: [0.70, 0.72, 0.71], 2.0: [0.78, 0.82, 0.80], 8.0: [0.79, 0.83, 0.81]}
    assert chosen_c(noisy) == 2.0  # 8 is better by less than its standard error
    clear = {0.5: [0.70, 0.72, 0.71], 2.0: [0.74, 0.75, 0.76], 8.0: [0.80, 0.81, 0.80]}
    assert chosen_c(clear) == 8.0


def test_threads_asking_for_a_detector_at_once_build_one(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[tuple[str, ...]] = []

    class SlowDetector:
        def __init__(self, languages: tuple[str, ...]) -> None:
            built.append(languages)
            time.sleep(0.2)  # loading takes seconds: the other threads ask meanwhile

    monkeypatch.setattr(engine_module, "LanguageDetector", SlowDetector)
    monkeypatch.setattr(engine_module, "_detectors", {})
    start, found = threading.Barrier(6), []

    def ask() -> None:
        start.wait()
        found.append(detector_for(("en", "cs")))

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert built == [("en", "cs")] and len({id(d) for d in found}) == 1 and len(found) == 6
