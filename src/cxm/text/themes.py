"""The company's themes: fitted over every stored text, assigned to each as signals, edited by analysts."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.orm import Session, aliased

from cxm.core.errors import InvalidInput, NotFound
from cxm.text.crosslingual import Embed, fit_grouped
from cxm.text.embeddings import shared_model
from cxm.text.engine import detector_for
from cxm.text.models import TextSignal, TextTheme, ThemeModel
from cxm.text.names import name_terms
from cxm.text.signals import SOURCES, SourceText, ThemeAssigner, remove_signals, source_texts
from cxm.text.topics import Topics, assigned, lemmatised, spellings, split

DEFAULT_THEMES = 8
# Fitting uses the newest texts up to this many (assigning covers them all).
FIT_AT_MOST = 20_000
READ_BATCH = 2_000
_topics: dict[tuple[int, int], Topics] = {}


@dataclass(frozen=True)
class ThemeSummary:
    """One theme with how many texts are about it and their mean sentiment."""

    id: int
    name: str
    terms: list[str]
    texts: int
    sentiment: float | None


def active_theme_model(session: Session) -> ThemeModel | None:
    """The theme model in use, if one was fitted."""
    return session.scalars(select(ThemeModel).where(ThemeModel.active.is_(True))).first()


def theme_names(session: Session) -> list[tuple[int, str]]:
    """The themes in use, (id, current name) by name: what a theme filter offers."""
    query = (
        select(TextTheme.id, TextTheme.name)
        .join(ThemeModel, ThemeModel.id == TextTheme.model_id)
        .where(ThemeModel.active.is_(True))
        .order_by(TextTheme.name, TextTheme.id)
    )
    return [(int(theme_id), str(name)) for theme_id, name in session.execute(query)]


def topics_of(model: ThemeModel) -> Topics:
    """The arrays of a stored theme model, kept by id and checksum (ids repeat across databases)."""
    key = (model.id, zlib.crc32(model.data))
    if key not in _topics:
        _topics.clear()
        _topics[key] = Topics.from_bytes(model.data)
    return _topics[key]


def assigner(session: Session) -> ThemeAssigner | None:
    """Gives texts (with their languages) the active model's themes; None while no theme model was fitted."""
    model = active_theme_model(session)
    if model is None:
        return None
    topics = topics_of(model)

    def assign(texts: Sequence[str], languages: Sequence[str]) -> list[list[tuple[int, float]]]:
        documents = [lemmatised(t, lang) for t, lang in zip(texts, languages, strict=True)]
        return [[(topics.theme_ids[i], share) for i, share in found] for found in assigned(topics.weights(documents))]

    return assign


def corpus(session: Session, *, languages: Sequence[str]) -> list[tuple[SourceText, str]]:
    """Every stored text with its language (from its signals, else detected now), oldest first."""
    from cxm.text.analysis import stored_text_ids  # analysis assigns themes: imported late, no cycle

    known = _languages(session)
    detector = detector_for(tuple(languages))
    found = []
    for source in SOURCES:
        ids = stored_text_ids(session, source)
        for start in range(0, len(ids), READ_BATCH):
            for text in source_texts(session, source, ids[start : start + READ_BATCH]):
                key = (text.source, text.source_id, text.question_id)
                found.append((text, known.get(key) or detector.detect(text.text)))
    return found


def _languages(session: Session) -> dict[tuple[str, int, int | None], str]:
    query = select(TextSignal.source, TextSignal.source_id, TextSignal.question_id, TextSignal.label).where(
        TextSignal.kind == "language"
    )
    return {(s, i, q): label for s, i, q, label in session.execute(query)}


@dataclass
class FittedThemes:
    """Themes fitted over the stored texts, with each text's themes by index: what storing them needs."""

    topics: Topics
    texts: list[SourceText]
    found: list[list[tuple[int, float]]]
    fitted_on: int


def fit_themes(
    session: Session,
    *,
    languages: Sequence[str],
    themes: int = DEFAULT_THEMES,
    kind: str = "offline",
    model_dir: str | None = None,
) -> ThemeModel:
    """Fit the company's themes over its stored texts, make them the ones in use and assign them to every text."""
    embed = theme_embedder(kind, model_dir)
    return keep_themes(session, plan_themes(session, languages=languages, themes=themes, embed=embed))


def plan_themes(
    session: Session, *, languages: Sequence[str], themes: int = DEFAULT_THEMES, embed: Embed | None = None
) -> FittedThemes:
    """Fit themes over the stored texts and find each text's themes; writes nothing (a job runs it while reading).

    `themes` is the most themes one language's texts of one kind (comments, interaction texts) get; themes of
    different languages and kinds that mean the same are merged (`crosslingual.fit_grouped`) by `embed` (the shipped
    E5 model's embeddings when not given).
    """
    texts = corpus(session, languages=languages)
    documents = [lemmatised(t.text, lang) for t, lang in texts]
    usable = [(d, f"{t.source}:{lang}", t.text) for d, (t, lang) in zip(documents, texts, strict=True) if d]
    usable = usable[-FIT_AT_MOST:]
    if len(usable) < 4:
        raise InvalidInput(f"themes need at least 4 stored texts with content words; there are {len(usable)}")
    written = spellings((t.text, lang) for t, lang in texts[-FIT_AT_MOST:])
    names = name_terms((t.text, lang) for t, lang in texts[-FIT_AT_MOST:])
    try:
        topics = fit_grouped(
            [d for d, _, _ in usable],
            [g for _, g, _ in usable],
            themes,
            spelled=written,
            embed=embed or _embed,
            texts=[t for _, _, t in usable],
            names=names,
        )
    except ValueError as error:  # too few words shared by two texts
        raise InvalidInput(f"cannot fit themes to these texts: {error}") from None
    return FittedThemes(topics, [t for t, _ in texts], _found(topics, documents), len(usable))


def theme_embedder(kind: str = "offline", model_dir: str | None = None) -> Embed:
    """What compares themes across languages: the onnx engine's model when it embeds texts, else the shipped E5 model.

    Nothing is loaded until a fit has themes of two groups to compare; the onnx engine's model is loaded anyway to
    analyse texts, so a fit with it never loads E5 too (unless that model is a classifier, which embeds nothing).
    """
    if kind != "onnx" or not model_dir:
        return _embed
    directory = model_dir

    def embed(texts: list[str]) -> np.ndarray:
        from cxm.text import onnx_engine  # onnxruntime is an optional extra

        model = onnx_engine.load(directory).model
        if model.config.kind != "embedding":
            return _embed(texts)
        found = np.asarray(model.run(texts), dtype=np.float32)
        return np.asarray(found / np.maximum(np.linalg.norm(found, axis=1, keepdims=True), 1e-12))

    return embed


def _embed(texts: list[str]) -> np.ndarray:
    """The shipped E5 model's embeddings of short texts (a theme's typical texts)."""
    return np.asarray(shared_model().query(texts), dtype=np.float32)


def keep_themes(session: Session, fitted: FittedThemes) -> ThemeModel:
    """Make fitted themes the ones in use and give every text its themes."""
    session.execute(update(ThemeModel).values(active=False))
    model = ThemeModel(active=True, texts=fitted.fitted_on, data=b"")
    session.add(model)
    session.flush()
    topics = fitted.topics
    topics.theme_ids = [_new_theme(session, model.id, topics, i) for i in range(len(topics.components))]
    model.data = topics.to_bytes()
    _write_themes(session, topics, fitted.texts, fitted.found)
    return model


def _new_theme(session: Session, model_id: int, topics: Topics, index: int) -> int:
    theme = TextTheme(model_id=model_id, name=topics.names()[index][:200], terms=topics.top_terms(index))
    session.add(theme)
    session.flush()
    return theme.id


def _assign_all(
    session: Session, topics: Topics, texts: list[tuple[SourceText, str]], documents: list[str] | None = None
) -> None:
    """Replace every text's theme signals with the themes of this model."""
    documents = documents if documents is not None else [lemmatised(t.text, lang) for t, lang in texts]
    _write_themes(session, topics, [t for t, _ in texts], _found(topics, documents))


def _found(topics: Topics, documents: list[str]) -> list[list[tuple[int, float]]]:
    """Each lemmatised document's themes, (index in the model, share), in batches."""
    return [
        f
        for start in range(0, len(documents), READ_BATCH)
        for f in assigned(topics.weights(documents[start : start + READ_BATCH]))
    ]


def _write_themes(
    session: Session, topics: Topics, texts: list[SourceText], found: list[list[tuple[int, float]]]
) -> None:
    """Replace every text's theme signals with those found (indexes into the model's themes)."""
    remove_signals(session, TextSignal.kind == "theme")
    rows = [
        _theme_row(text, topics.theme_ids[i], share)
        for text, themes in zip(texts, found, strict=True)
        for i, share in themes
    ]
    for start in range(0, len(rows), READ_BATCH * 5):
        session.execute(insert(TextSignal), rows[start : start + READ_BATCH * 5])


def _theme_row(text: SourceText, theme_id: int, share: float) -> dict[str, object]:
    return {
        "kind": "theme",
        "label": str(theme_id),
        "value": share,
        "theme_id": theme_id,
        "source": text.source,
        "source_id": text.source_id,
        "question_id": text.question_id,
        "customer_id": text.customer_id,
        "text_hash": text.digest,
        "model": "themes",
        "written_at": text.written_at,
    }


def list_themes(session: Session) -> list[ThemeSummary]:
    """The themes in use with their volume (texts) and mean sentiment, most frequent first."""
    model = active_theme_model(session)
    if model is None:
        return []
    mood = aliased(TextSignal)
    joined = and_(
        mood.kind == "sentiment",
        mood.source == TextSignal.source,
        mood.source_id == TextSignal.source_id,
        func.coalesce(mood.question_id, 0) == func.coalesce(TextSignal.question_id, 0),
    )
    query = (
        select(TextSignal.theme_id, func.count(TextSignal.id), func.avg(mood.value))
        .outerjoin(mood, joined)
        .where(TextSignal.kind == "theme")
        .group_by(TextSignal.theme_id)
    )
    figures = {theme: (int(n), avg) for theme, n, avg in session.execute(query)}
    themes = session.scalars(select(TextTheme).where(TextTheme.model_id == model.id))
    summaries = [_summary(t, *figures.get(t.id, (0, None))) for t in themes]
    return sorted(summaries, key=lambda s: (-s.texts, s.id))


def _summary(theme: TextTheme, texts: int, sentiment: float | None) -> ThemeSummary:
    mean = round(float(sentiment), 4) if sentiment is not None else None
    return ThemeSummary(theme.id, theme.name, list(theme.terms), texts, mean)


def theme_in_use(session: Session, theme_id: int) -> TextTheme:
    """A theme of the model in use, or NotFound."""
    model = active_theme_model(session)
    theme = session.get(TextTheme, theme_id)
    if theme is None or model is None or theme.model_id != model.id:
        raise NotFound(f"no theme {theme_id} in the theme model in use")
    return theme


def rename_theme(session: Session, theme_id: int, name: str) -> TextTheme:
    """Give a theme a name analysts chose."""
    theme = theme_in_use(session, theme_id)
    theme.name = name
    session.flush()
    return theme


def merge_themes(
    session: Session, theme_ids: Sequence[int], *, languages: Sequence[str], name: str | None = None
) -> TextTheme:
    """Merge themes into the first one (their components added up); texts are re-assigned."""
    kept = [theme_in_use(session, i) for i in dict.fromkeys(theme_ids)]
    if len(kept) < 2:
        raise InvalidInput("merging needs at least two different themes")
    model, survivor = active_theme_model(session), kept[0]
    assert model is not None
    topics = _copy(topics_of(model))
    rows = [topics.theme_ids.index(t.id) for t in kept]
    topics.components[rows[0]] = topics.components[rows].sum(axis=0)
    _drop(session, topics, [t.id for t in kept[1:]])
    survivor.name = name or survivor.name
    survivor.terms = topics.top_terms(topics.theme_ids.index(survivor.id))
    _replace_model(session, model, topics, languages)
    return survivor


def split_theme(session: Session, theme_id: int, *, languages: Sequence[str]) -> list[TextTheme]:
    """Split a theme in two, refitted to the texts about it; texts are re-assigned."""
    theme = theme_in_use(session, theme_id)
    model = active_theme_model(session)
    assert model is not None
    texts = corpus(session, languages=languages)
    members = _members(session, theme_id)
    documents = [
        d for t, lang in texts if (t.source, t.source_id, t.question_id) in members if (d := lemmatised(t.text, lang))
    ]
    if len(documents) < 4:
        raise InvalidInput(f"theme {theme_id} has {len(documents)} texts; splitting needs at least 4")
    topics = _copy(topics_of(model))
    parts = split(topics, topics.theme_ids.index(theme.id), documents)
    topics.components = np.vstack([topics.components, parts])
    topics.theme_ids = [*topics.theme_ids, 0, 0]
    new = [_new_theme(session, model.id, topics, len(topics.theme_ids) - k) for k in (2, 1)]
    topics.theme_ids[-2:] = new
    _drop(session, topics, [theme.id])
    _replace_model(session, model, topics, languages, texts)
    return [session.get_one(TextTheme, i) for i in new]


def _members(session: Session, theme_id: int) -> set[tuple[str, int, int | None]]:
    query = select(TextSignal.source, TextSignal.source_id, TextSignal.question_id).where(
        TextSignal.kind == "theme", TextSignal.theme_id == theme_id
    )
    return {(s, i, q) for s, i, q in session.execute(query)}


def _copy(topics: Topics) -> Topics:
    return Topics(
        list(topics.terms), topics.idf, topics.components.copy(), list(topics.theme_ids), list(topics.spelled)
    )


def _drop(session: Session, topics: Topics, theme_ids: list[int]) -> None:
    keep = [i for i, t in enumerate(topics.theme_ids) if t not in theme_ids]
    topics.components = topics.components[keep]
    topics.theme_ids = [topics.theme_ids[i] for i in keep]
    session.execute(delete(TextTheme).where(TextTheme.id.in_(theme_ids)))


def _replace_model(
    session: Session,
    old: ThemeModel,
    topics: Topics,
    languages: Sequence[str],
    texts: list[tuple[SourceText, str]] | None = None,
) -> None:
    """An edited model is stored as a new version (stored models never change), then every text re-assigned."""
    old.active = False
    session.flush()
    model = ThemeModel(active=True, texts=old.texts, data=topics.to_bytes())
    session.add(model)
    session.flush()
    session.execute(update(TextTheme).where(TextTheme.model_id == old.id).values(model_id=model.id))
    _assign_all(session, topics, texts if texts is not None else corpus(session, languages=languages))
