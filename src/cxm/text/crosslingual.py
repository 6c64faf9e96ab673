"""Themes fitted per language and kind of text, then merged across them where their words mean the same.

One NMF over every text let the most frequent kind of text and language take every theme: on the demo the interaction
texts (six times as many as the comments) took them all, and a topic got one Czech and one Polish theme. Each group
(comments in Czech, interaction texts in Polish, ...) now gets its own themes in one shared vocabulary; a theme's
most telling words are embedded with the shipped multilingual E5 model (a few dozen short texts), and themes whose
words are close are added up into one: Czech `doručení / kurýr` and Polish `dostawa / kurier` become one theme.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.decomposition import NMF
from sklearn.feature_extraction.text import TfidfVectorizer

from cxm.text.topics import TOP_TERMS, Topics

# A group with fewer usable texts is fitted together with the other small groups of its kind of text.
SMALLEST_GROUP = 30
# A group gets at most one theme per this many texts (NMF over few texts splits a topic into its sentences).
TEXTS_PER_THEME = 10
# Themes merge while the mean cosine of their words' embeddings, centred on the mean of all themes, reaches this. The
# E5 similarities of any two short word lists lie within 0.82-0.97; centring spreads them out. Measured on the demo's
# topics: the same topic in two languages 0.13-0.69 (mostly above 0.2), different topics -0.35-0.15 (one at 0.27).
CLOSE = 0.2
LABEL_TERMS = 4
# A term in more than this share of one group's texts names no theme (see `_everywhere`).
COMMON = 0.5
# Word lists -> one normalised embedding each.
Embed = Callable[[list[str]], np.ndarray]


@dataclass
class Candidate:
    """One theme of one group: its component (unit norm), how much of the group's texts it explains, its group."""

    component: np.ndarray
    volume: float
    group: str


def fit_grouped(
    documents: Sequence[str], groups: Sequence[str], themes: int, *, spelled: Mapping[str, str], embed: Embed | None
) -> Topics:
    """Themes fitted per group of documents (lemmatised) in one vocabulary, merged across groups when close."""
    vectorizer = TfidfVectorizer(token_pattern=r"\S+", min_df=2, max_df=0.6, sublinear_tf=True)
    matrix = vectorizer.fit_transform(documents)
    terms = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
    rows = pooled(groups)
    candidates = [c for name, found in rows.items() for c in _fit_group(matrix[found], name, themes, len(found))]
    if not candidates:
        raise ValueError("no group of texts shares enough words")
    components = np.vstack([c.component for c in candidates])
    topics = Topics(terms, vectorizer.idf_, components, [0] * len(candidates), [spelled.get(t, t) for t in terms])
    if embed is None or len(candidates) <= 2:
        return topics
    return merged(topics, candidates, embed, _everywhere(matrix, rows))


def pooled(groups: Sequence[str]) -> dict[str, list[int]]:
    """Row numbers per group; small groups pooled per kind of text (`response:cs` -> `response:*`), then overall."""
    rows: dict[str, list[int]] = {}
    for row, group in enumerate(groups):
        rows.setdefault(group, []).append(row)
    for level in (lambda g: g.split(":")[0] + ":*", lambda g: "*"):
        small = [g for g, found in rows.items() if len(found) < SMALLEST_GROUP]
        for group in small if len(small) > 1 else []:
            rows.setdefault(level(group), []).extend(rows.pop(group))
    return {g: sorted(found) for g, found in rows.items()}


def _everywhere(matrix: Any, rows: dict[str, list[int]]) -> frozenset[int]:
    """Terms in more than COMMON of one group's texts: the company's name (`lumo` in 66% of the demo's interaction
    texts of each language; a topic's words at most 26%), which names no theme; kept in the fit."""
    found: set[int] = set()
    for group in (r for r in rows.values() if len(r) >= SMALLEST_GROUP):
        texts = np.asarray((matrix[group] > 0).sum(axis=0)).ravel()  # counts: scipy's mean rounds 60/120 above 0.5
        found |= {int(i) for i in np.flatnonzero(texts > COMMON * len(group))}
    return frozenset(found)


def _fit_group(matrix: object, group: str, themes: int, texts: int) -> list[Candidate]:
    """The group's themes, each scaled to unit norm with its volume (the weight its texts put on it)."""
    count = max(1, min(themes, texts // TEXTS_PER_THEME))
    model = NMF(n_components=count, init="nndsvda", random_state=0, max_iter=500)
    try:
        with np.errstate(invalid="ignore"):  # a near-perfect fit's reported loss can be sqrt(-tiny)
            weights = model.fit_transform(matrix)
    except ValueError:  # too few texts or words in this group: its texts still get the other groups' themes
        return []
    norms = np.linalg.norm(model.components_, axis=1)
    return [
        Candidate(model.components_[i] / norms[i], float(weights[:, i].sum() * norms[i]), group)
        for i in range(count)
        if norms[i] > 0
    ]


def merged(topics: Topics, candidates: list[Candidate], embed: Embed, common: frozenset[int] = frozenset()) -> Topics:
    """The candidates' themes with those close in meaning (and of different groups) added up; each merged theme is
    named as its largest member was (one language's words, not a mix), without the `common` terms."""
    groups = [c.group for c in candidates]
    clusters = _clusters(_similarities(topics, embed, groups), groups)
    # Unit parts: a text's weight on a theme then compares fairly with its weight on another (shares are of weights).
    components = np.vstack([np.sum([candidates[i].component for i in cluster], axis=0) for cluster in clusters])
    names = [" / ".join(topics.telling_terms(i, TOP_TERMS, common)) for i in range(len(candidates))]
    labels = [names[max(cluster, key=lambda i: candidates[i].volume)] for cluster in clusters]
    return Topics(topics.terms, topics.idf, components, [0] * len(clusters), topics.spelled, labels)


def label_text(topics: Topics, index: int) -> str:
    """What is embedded for a theme: the words that set it apart (product and brand names are in many themes).

    The `common` terms stay in: left out, the demo's warranty themes no longer met (36 themes instead of 30)."""
    return ", ".join(topics.telling_terms(index, LABEL_TERMS))


def _similarities(topics: Topics, embed: Embed, groups: list[str]) -> np.ndarray:
    """Cosine similarities of the themes' words, each centred on its group's mean (what a language's words share)."""
    vectors = np.asarray(embed([label_text(topics, i) for i in range(len(topics.components))]), dtype=np.float64)
    for group in set(groups):
        rows = [i for i, g in enumerate(groups) if g == group]
        vectors[rows] -= vectors[rows].mean(axis=0) if len(rows) > 1 else vectors.mean(axis=0)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    return np.asarray(vectors @ vectors.T)


def _clusters(similar: np.ndarray, groups: list[str]) -> list[list[int]]:
    """Average-linkage clusters above CLOSE; two themes of one group never merge (their fit kept them apart)."""
    clusters = [[i] for i in range(len(groups))]
    while (pair := _closest(similar, clusters, groups)) is not None:
        first, second = pair
        clusters[first] += clusters.pop(second)
    return sorted(clusters)


def _closest(similar: np.ndarray, clusters: list[list[int]], groups: list[str]) -> tuple[int, int] | None:
    """The two clusters of disjoint groups whose themes are closest on average, if close enough."""
    best, found = CLOSE, None
    for a in range(len(clusters)):
        for b in range(a + 1, len(clusters)):
            if {groups[i] for i in clusters[a]} & {groups[i] for i in clusters[b]}:
                continue
            mean = float(similar[np.ix_(clusters[a], clusters[b])].mean())
            if mean >= best:
                best, found = mean, (a, b)
    return found
