"""Themes fitted per language and merged across languages; theme names free of stopwords and generic words."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import stopwordsiso
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cxm.core import jobs
from cxm.core.db import make_sessionmaker
from cxm.feedback import service as feedback_service
from cxm.text import service, themes
from cxm.text.crosslingual import SMALLEST_GROUP, fit_grouped, pooled, theme_count
from cxm.text.keyphrases import strip_accents
from cxm.text.topics import assigned, lemmatised, theme_stopwords
from tests.text.test_onnx_engine import build_model

START = datetime(2026, 2, 2, tzinfo=UTC)
LANGUAGES = ["en", "cs", "pl"]
# Two topics in three languages; every comment also holds generic words and the brand, which no theme is about.
COMMENTS = {
    ("en", "delivery"): "Can you tell me why the parcel from Lumo came {} days late? The courier never rang.",
    ("en", "staff"): "I must say the shop assistant at Lumo was friendly and helpful, {} stars for the staff.",
    ("cs", "delivery"): "Můžete mi říct, jaký kurýr vezl balík od Lumo? Balík přišel o {} dny později.",
    ("cs", "staff"): "Musím říct, že prodavačka v prodejně Lumo byla milá a ochotná, personál za {} hvězdy.",
    ("pl", "delivery"): "Czy możecie powiedzieć, dlaczego paczka od Lumo przyszła {} dni później? Kurier nie dzwonił.",
    ("pl", "staff"): "Muszę powiedzieć, że sprzedawczyni w sklepie Lumo była miła i pomocna, obsługa na {} gwiazdki.",
}


def store(session: Session, per_topic: int) -> dict[int, tuple[str, str]]:
    """NPS responses with these comments; (language, topic) by response id."""
    feedback_service.install_templates(session)
    survey = feedback_service.get_survey(session, "relationship-nps")
    written = [(key, text.format(i % 5 + 2)) for key, text in COMMENTS.items() for i in range(per_topic)]
    items = [
        feedback_service.IncomingResponse(
            answers={"nps": 3 if topic == "delivery" else 10, "reason": text},
            external_id=f"x{i}",
            language=language,
            completed_at=START + timedelta(hours=i),
        )
        for i, ((language, topic), text) in enumerate(written)
    ]
    ids = feedback_service.store_responses(session, survey, items, actor="t").response_ids
    return {i: key for i, (key, _) in zip(ids, written, strict=True) if i}


def test_one_topic_in_three_languages_is_one_theme_with_a_clean_name(db: Engine) -> None:
    factory = make_sessionmaker(db)
    with factory.begin() as session:
        written = store(session, per_topic=SMALLEST_GROUP)
    jobs.run_due(factory)
    with factory.begin() as session:
        service.fit_themes(session, languages=LANGUAGES, themes=2)
        themes = service.list_themes(session)
        members: dict[int, set[tuple[str, str]]] = defaultdict(set)
        for response_id, key in written.items():
            for signal in service.signals_of(session, source="response", source_id=response_id):
                if signal.kind == "theme":
                    members[signal.theme_id].add(key)
    assert len(themes) == 2  # six groups' themes (3 languages x 2 topics) merged into one per topic
    assert sorted(sorted(keys) for keys in members.values()) == [
        [(language, topic) for language in sorted(LANGUAGES)] for topic in ("delivery", "staff")
    ]
    unwanted = {w for language in LANGUAGES for w in theme_stopwords(language)} | {"lumo"}
    for theme in themes:
        words = [strip_accents(w.strip().lower()) for w in theme.name.split("/")]
        assert len(words) >= 2 and not set(words) & unwanted, theme.name


def test_generic_words_and_their_lemmas_leave_the_words_themes_are_fitted_on() -> None:
    found = lemmatised("Může mi někdo říct, jaká je záruka na nabíječku? Přestala fungovat.", "cs").split()
    assert {"moci", "jaky", "rict", "prestat"}.isdisjoint(found) and {"zaruka", "nabijecka", "fungovat"} <= set(found)
    assert "gwarancja" in lemmatised("Gdzie mogę sprawdzić gwarancję?", "pl").split()
    assert {"gdzie", "moc"}.isdisjoint(lemmatised("Gdzie mogę sprawdzić gwarancję?", "pl").split())
    assert set(stopwordsiso.stopwords("cs")) <= theme_stopwords("cs") and "late" not in theme_stopwords("en")


def test_small_groups_are_fitted_together_per_kind_of_text_then_overall() -> None:
    groups = ["response:cs"] * SMALLEST_GROUP + ["response:pl", "response:hr", "interaction:cs", "interaction:ro"]
    rows = pooled(groups)
    assert sorted(rows) == ["*", "response:cs"]
    assert rows["response:cs"] == list(range(SMALLEST_GROUP))
    assert rows["*"] == list(range(SMALLEST_GROUP, len(groups)))
    big = ["response:cs"] * SMALLEST_GROUP + ["response:pl"] * SMALLEST_GROUP + ["response:hr"] * 2
    assert sorted(pooled(big)) == ["response:cs", "response:hr", "response:pl"]  # one small group: alone


def test_a_term_in_most_texts_of_a_group_names_no_theme() -> None:
    from scipy import sparse

    from cxm.text.crosslingual import _everywhere
    from cxm.text.topics import Topics

    present = sparse.csr_matrix(np.array([[1, 1, 0], [1, 0, 1], [1, 1, 0], [0, 0, 1]] * SMALLEST_GROUP, dtype=float))
    assert _everywhere(present, {"response:cs": list(range(4 * SMALLEST_GROUP))}) == frozenset({0})
    assert _everywhere(present, {"response:cs": [0, 1, 2]}) == frozenset()  # a small group tells nothing
    weights = np.array([[3.0, 2.0, 0.0, 1.0], [3.0, 0.0, 2.0, 1.0]])  # the brand weighs most in both
    topics = Topics(
        ["lumo", "zaruka", "kabel", "vada"], np.ones(4), weights, [1, 2], ["Lumo", "záruka", "kabel", "vada"]
    )
    assert topics.telling_terms(0, 2, frozenset({0})) == ["záruka", "vada"]
    assert "Lumo" in topics.telling_terms(0, 3)


# Two topics in two made-up languages: `Meaning` stands for a multilingual embedding model that knows the words'
# translations (what E5 does for real languages).
TRANSLATED = {
    ("a", "courier"): "courier parcel late",
    ("a", "price"): "price expensive cheap",
    ("b", "courier"): "kurier paczka spozniony",
    ("b", "price"): "cena drogi tani",
}
FILLERS = ["alpha", "beta", "gamma", "delta", "epsilon"]


def translated_texts(per_topic: int = 40) -> tuple[list[str], list[str], list[str]]:
    """(lemmatised documents, groups, texts as written) for each language and topic."""
    documents, groups, written = [], [], []
    for (language, _), words in TRANSLATED.items():
        for i in range(per_topic):
            document = f"{words} {FILLERS[i % len(FILLERS)]}{language}"
            documents.append(document)
            groups.append(f"response:{language}")
            written.append(f"As written: {document}!")
    return documents, groups, written


class Meaning:
    """A fake embedding model: a text's vector counts its words per topic (by language and topic when `literal`)."""

    def __init__(self, literal: bool = False) -> None:
        self.literal = literal
        self.seen: list[str] = []

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.seen += texts
        keys = sorted(TRANSLATED) if self.literal else sorted({t for _, t in TRANSLATED})
        rows = [[self._count(text, key) for key in keys] for text in texts]
        found = np.asarray(rows, dtype=float) + 0.01
        return found / np.linalg.norm(found, axis=1, keepdims=True)

    def _count(self, text: str, key: str | tuple[str, str]) -> int:
        if isinstance(key, tuple):
            words = TRANSLATED[key].split()
        else:
            words = [w for (_, topic), v in TRANSLATED.items() if topic == key for w in v.split()]
        return sum(w in words for w in text.strip("!").split())


def test_themes_whose_typical_texts_mean_the_same_merge_across_languages() -> None:
    documents, groups, written = translated_texts()
    meaning = Meaning()
    topics = fit_grouped(documents, groups, 2, spelled={}, embed=meaning, texts=written)
    assert len(topics.components) == 2  # four per-language themes, two topics
    assert meaning.seen and set(meaning.seen) <= set(written)  # the texts as written were compared, not word lists
    found = assigned(topics.weights(documents))
    theme_of = {(g, d.split()[0]): f[0][0] for d, g, f in zip(documents, groups, found, strict=True)}
    assert theme_of[("response:a", "courier")] == theme_of[("response:b", "kurier")]
    assert theme_of[("response:a", "price")] == theme_of[("response:b", "cena")]
    assert theme_of[("response:a", "courier")] != theme_of[("response:a", "price")]


def test_themes_whose_texts_mean_different_things_stay_apart() -> None:
    documents, groups, written = translated_texts()
    topics = fit_grouped(documents, groups, 2, spelled={}, embed=Meaning(literal=True), texts=written)
    assert len(topics.components) == 4


def refuse_to_embed(texts: list[str]) -> np.ndarray:
    """An embedding model that must not be needed."""
    raise AssertionError(f"nothing should be embedded: {texts[:2]}")


def test_a_small_group_gets_few_themes_and_one_group_loads_no_embedding_model() -> None:
    words = ["courier late", "price expensive", "staff friendly", "website slow", "hotline waiting"]
    documents = [f"{words[i % 5]} parcel{i % 3}" for i in range(25)]
    topics = fit_grouped(documents, ["response:cs"] * 25, 8, spelled={}, embed=refuse_to_embed)
    assert len(topics.components) == theme_count(range(25), 8) == 2  # one theme per TEXTS_PER_THEME texts
    assert theme_count(range(400), 8) == 8


def test_the_onnx_engine_s_embedding_model_merges_themes_without_loading_e5(
    db: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_e5() -> None:
        raise AssertionError("the E5 model was loaded")

    monkeypatch.setattr(themes, "shared_model", no_e5)
    directory = str(build_model(tmp_path / "embedding", kind="embedding"))
    rows = themes.theme_embedder("onnx", directory)(["good great", "awful"])
    assert rows.shape == (2, 3) and np.allclose(np.linalg.norm(rows, axis=1), 1.0)
    factory = make_sessionmaker(db)
    with factory.begin() as session:
        store(session, per_topic=SMALLEST_GROUP)
        service.fit_themes(session, languages=LANGUAGES, themes=2, kind="onnx", model_dir=directory)
        assert service.list_themes(session)
    with pytest.raises(AssertionError, match="E5"):  # the offline engine (and an onnx classifier) compare with E5
        themes.theme_embedder("offline")(["good"])


def test_a_group_s_only_theme_is_centred_on_every_theme_s_mean_as_embedded() -> None:
    from cxm.text.crosslingual import _similarities

    embedded = np.array([[1.0, 0.0, 0.2], [0.0, 1.0, 0.2], [0.6, 0.6, 1.0], [0.1, 0.9, 0.3]])
    for groups in (["a", "a", "b", "c"], ["c", "c", "a", "b"], ["z", "z", "y", "x"]):  # any order of the groups
        found = _similarities(embedded, groups)
        alone = [embedded[i] - embedded.mean(axis=0) for i in (2, 3)]
        cosine = alone[0] @ alone[1] / (np.linalg.norm(alone[0]) * np.linalg.norm(alone[1]))
        assert found[2, 3] == pytest.approx(cosine)


def test_themes_merge_only_with_those_that_are_each_other_s_closest_in_their_groups() -> None:
    from cxm.text import crosslingual

    # Waiting on the hotline in groups a, c, d (0, 3, 4), delivery in a and d (1, 5); "where is my order" (2, group b)
    # is closest to c's waiting theme, but a's and d's delivery themes are its closest in a and d.
    groups = ["a", "a", "b", "c", "d", "d"]
    similar = np.eye(6)
    for i, j, cosine in [(0, 3, 0.5), (0, 4, 0.5), (3, 4, 0.5), (1, 5, 0.5), (2, 0, 0.2), (2, 1, 0.25), (2, 3, 0.4)]:
        similar[i, j] = similar[j, i] = cosine
    similar[2, 4] = similar[4, 2] = 0.2
    similar[2, 5] = similar[5, 2] = 0.25
    assert crosslingual._clusters(similar, groups) == [[0, 3, 4], [1, 5, 2]]
    mutual = crosslingual._mutual(similar, groups)
    assert mutual[2, 3] and mutual[2, 1] and not mutual[2, 0] and not mutual[2, 4]
    # On average the waiting themes are closer to it (0.27 against 0.25): merged by centroids alone, it joined them.
    assert similar[2, [0, 3, 4]].mean() > similar[2, [1, 5]].mean() >= crosslingual.CLOSE
