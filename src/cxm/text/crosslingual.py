"""Themes fitted per language and kind of text, then merged across them where their texts mean the same.

One NMF over every text let the most frequent kind of text and language take every theme: on the demo the interaction
texts (six times as many as the comments) took them all, and a topic got one Czech and one Polish theme. Each group
(comments in Czech, interaction texts in Polish, ...) now gets its own themes in one shared vocabulary; each theme's
most typical texts (those most about it alone) are embedded with a multilingual model (the shipped E5, or the onnx
engine's), and themes whose typical texts are close are added up into one: Czech `doručení / kurýr` and Polish
`dostawa / kurier` become one theme. Whole texts carry their meaning across languages better than a theme's words
("stock, leeds, london" and "sklad, prodejna, ostrava" stayed apart: city names made up half of each word list)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
from sklearn.decomposition import NMF
from sklearn.feature_extraction.text import TfidfVectorizer

from cxm.text.topics import TOP_TERMS, Topics

# A group with fewer usable texts is fitted together with the other small groups of its kind of text.
SMALLEST_GROUP = 30
# A group gets at most one theme per this many texts (NMF over few texts splits a topic into its sentences).
TEXTS_PER_THEME = 10
# Texts per theme embedded to compare it with the other groups' themes (default demo, small demo: 5: 16 themes at
# purity 0.76, 11 at 0.66; 8: 13 at 0.73, 14 at 0.69; 10: 14 at 0.73, 14 at 0.64; its words alone: 31 at 0.72).
EXAMPLES = 8
# ... each read up to this many characters (the embedding costs time by the character).
EXAMPLE_CHARACTERS = 300
# Themes merge while the mean cosine of their typical texts' embeddings, centred on their group's mean, reaches this.
# Measured on the default demo's 81 per-group themes: the same topic in two groups 0.35 at the median (a quarter below
# 0.09), different topics 0.14 at the 90th percentile; average linkage keeps a cluster's members close to each other.
# 0.2: 21 themes (purity 0.74), 0.1: 13 (0.73); see benchmarks/RESULTS-text.md.
CLOSE = 0.1
# ... and while at least this share of their pairs of themes are each other's closest in the other's group.
MUTUAL = 0.5
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
    # Rows (of all documents) of the texts most about this theme alone: what is embedded to compare it with others.
    examples: list[int]


def fit_grouped(
    documents: Sequence[str],
    groups: Sequence[str],
    themes: int,
    *,
    spelled: Mapping[str, str],
    embed: Embed | None,
    texts: Sequence[str] = (),
    names: frozenset[str] = frozenset(),
) -> Topics:
    """Themes fitted per group of documents (lemmatised) in one vocabulary, merged across groups when close.

    `texts` are the documents as written: a theme's most typical ones are what is embedded to compare it with other
    themes (without them, its telling words are). `names` (lemmas of products, towns, the brand: `names.name_terms`)
    are left out: themes fitted over them gave whole themes to the texts that mention a product ("air / headphones /
    purifier" held questions on warranty, stock and chargers) and were named by them."""
    stop = sorted(names) or None
    vectorizer = TfidfVectorizer(token_pattern=r"\S+", min_df=2, max_df=0.6, sublinear_tf=True, stop_words=stop)
    matrix = vectorizer.fit_transform(documents)
    terms = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
    rows = pooled(groups)
    fits = (_fit_group(matrix, found, name, theme_count(found, themes)) for name, found in rows.items())
    candidates = [c for found in fits for c in found]
    if not candidates:
        raise ValueError("no group of texts shares enough words")
    components = np.vstack([c.component for c in candidates])
    topics = Topics(terms, vectorizer.idf_, components, [0] * len(candidates), [spelled.get(t, t) for t in terms])
    skip = _everywhere(matrix, rows)
    if embed is None or len({c.group for c in candidates}) < 2:  # nothing to merge: no embedding model is loaded
        topics.labels = [" / ".join(topics.telling_terms(i, TOP_TERMS, skip)) for i in range(len(candidates))]
        return topics
    return merged(topics, candidates, embed, skip, texts)


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


def theme_count(rows: Sequence[int], themes: int) -> int:
    """How many themes a group of texts gets: `themes`, fewer for a small group (one per TEXTS_PER_THEME texts)."""
    return max(1, min(themes, len(rows) // TEXTS_PER_THEME))


def _fit_group(matrix: Any, rows: list[int], group: str, count: int) -> list[Candidate]:
    """The group's themes, each scaled to unit norm with its volume (the weight its texts put on it)."""
    model = NMF(n_components=count, init="nndsvda", random_state=0, max_iter=500)
    try:
        with np.errstate(invalid="ignore"):  # a near-perfect fit's reported loss can be sqrt(-tiny)
            weights = model.fit_transform(matrix[rows])
    except ValueError:  # too few texts or words in this group: its texts still get the other groups' themes
        return []
    norms = np.linalg.norm(model.components_, axis=1)
    typical = [[rows[j] for j in found] for found in _typical(weights)]
    return [
        Candidate(model.components_[i] / norms[i], float(weights[:, i].sum() * norms[i]), group, typical[i])
        for i in range(count)
        if norms[i] > 0
    ]


def _typical(weights: np.ndarray) -> list[list[int]]:
    """Per theme, the EXAMPLES texts (rows of `weights`) that weigh most on it and least on the others."""
    shares = weights / np.maximum(weights.sum(axis=1, keepdims=True), 1e-12)
    return [[int(j) for j in np.argsort(-(weights[:, i] * shares[:, i]))[:EXAMPLES]] for i in range(weights.shape[1])]


def merged(
    topics: Topics,
    candidates: list[Candidate],
    embed: Embed,
    common: frozenset[int] = frozenset(),
    texts: Sequence[str] = (),
) -> Topics:
    """The candidates' themes with those close in meaning (and of different groups) added up; each merged theme is
    named as its largest member was (one language's words, not a mix), without the `common` terms."""
    groups = [c.group for c in candidates]
    clusters = _clusters(_similarities(_meanings(topics, candidates, embed, texts), groups), groups)
    # Unit parts: a text's weight on a theme then compares fairly with its weight on another (shares are of weights).
    components = np.vstack([np.sum([candidates[i].component for i in cluster], axis=0) for cluster in clusters])
    names = [" / ".join(topics.telling_terms(i, TOP_TERMS, common)) for i in range(len(candidates))]
    labels = [names[max(cluster, key=lambda i: candidates[i].volume)] for cluster in clusters]
    return Topics(topics.terms, topics.idf, components, [0] * len(clusters), topics.spelled, labels)


def label_text(topics: Topics, index: int) -> str:
    """What is embedded for a theme: the words that set it apart (product and brand names are in many themes).

    The `common` terms stay in: left out, the demo's warranty themes no longer met (36 themes instead of 30)."""
    return ", ".join(topics.telling_terms(index, LABEL_TERMS))


def _meanings(topics: Topics, candidates: list[Candidate], embed: Embed, texts: Sequence[str]) -> np.ndarray:
    """One embedding per theme: the mean of its typical texts' (their words' when the texts are not given)."""
    if not texts:
        return np.asarray(embed([label_text(topics, i) for i in range(len(candidates))]), dtype=np.float64)
    pieces = [texts[row][:EXAMPLE_CHARACTERS] for c in candidates for row in c.examples]
    distinct = list(dict.fromkeys(pieces))  # short texts repeat: each is embedded once
    rows = dict(zip(distinct, np.asarray(embed(distinct), dtype=np.float64), strict=True))
    found = np.vstack([rows[p] for p in pieces])
    bounds = np.cumsum([0, *(len(c.examples) for c in candidates)])
    return np.vstack([found[a:b].mean(axis=0) for a, b in pairwise(bounds)])


def _similarities(embedded: np.ndarray, groups: list[str]) -> np.ndarray:
    """Cosine similarities of the themes' embeddings, each centred on its group's mean (what a language's texts
    share)."""
    vectors = np.asarray(embedded, dtype=np.float64).copy()
    # A group's only theme is centred on every theme's mean as embedded, taken before any group is centred: taken
    # midway, it depended on which groups came first (a set's order), and the same texts got different themes.
    overall = vectors.mean(axis=0)
    for group in dict.fromkeys(groups):
        rows = [i for i, g in enumerate(groups) if g == group]
        vectors[rows] -= vectors[rows].mean(axis=0) if len(rows) > 1 else overall
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    return np.asarray(vectors @ vectors.T)


def _clusters(similar: np.ndarray, groups: list[str]) -> list[list[int]]:
    """Average-linkage clusters above CLOSE; two themes of one group never merge (their fit kept them apart)."""
    clusters = [[i] for i in range(len(groups))]
    paired = _mutual(similar, groups)
    while (pair := _closest(similar, paired, clusters, groups)) is not None:
        first, second = pair
        clusters[first] += clusters.pop(second)
    return sorted(clusters)


def _mutual(similar: np.ndarray, groups: list[str]) -> np.ndarray:
    """Which two themes of different groups are each other's closest in the other's group (a translation of each other
    rather than a neighbour: waiting on the hotline is not where my order is, though nothing closer was asked)."""
    best = np.full(similar.shape, False)
    for group in dict.fromkeys(groups):
        rows = np.array([i for i, g in enumerate(groups) if g == group])
        best[np.arange(len(groups)), rows[np.argmax(similar[:, rows], axis=1)]] = True
    return np.asarray(best & best.T)


def _closest(
    similar: np.ndarray, paired: np.ndarray, clusters: list[list[int]], groups: list[str]
) -> tuple[int, int] | None:
    """The two clusters of disjoint groups whose themes are closest on average, if close enough and paired enough."""
    best, found = CLOSE, None
    for a in range(len(clusters)):
        for b in range(a + 1, len(clusters)):
            if {groups[i] for i in clusters[a]} & {groups[i] for i in clusters[b]}:
                continue
            pairs = np.ix_(clusters[a], clusters[b])
            mean = float(similar[pairs].mean())
            if mean >= best and float(paired[pairs].mean()) >= MUTUAL:
                best, found = mean, (a, b)
    return found
