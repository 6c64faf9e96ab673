"""Theme models: NMF over TF-IDF of lemmatised, accent-free words; stored as arrays, never pickled.

Lemmas are for themes only: simplemma strips Czech negation prefixes, so sentiment never sees them.
"""

from __future__ import annotations

import io
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import simplemma
from sklearn.decomposition import NMF, non_negative_factorization
from sklearn.feature_extraction.text import TfidfVectorizer

from cxm.text.keyphrases import stopwords, strip_accents

# simplemma's names for the languages cxm detects (Croatian, Bosnian, Serbian are one model there).
LEMMA_CODES = {"hr": "hbs", "bs": "hbs", "sr": "hbs"}
WORD = re.compile(r"[^\W\d_]{3,}")
# A theme is given to a text when it carries at least this share of the text's theme weight.
SHARE = 0.25
# ... and only when its themes explain at least this much of its TF-IDF vector (norm 1): a text that shares a word or
# two with the themes was otherwise given them from rounding noise (on the default demo, 99.8% of the survey comments
# got themes fitted mostly over interaction texts; with this floor 35%, the ones about those themes' words).
EXPLAINED = 0.1
MOST = 3
TOP_TERMS = 3
# Verbs and question words any text may use, whatever it is about (as lemmas): they named themes ("moci", "přestat",
# "jaký") without saying what the theme is. Words that carry a topic stay ("fungovat": it works; "dorazit": it
# arrived; "znati": staff knew).
GENERIC_WORDS = {
    "en": "be have do get make go say come take give want need keep seem where what how which",
    "cs": "být mít moci chtít dělat udělat jít říct říci dát vzít muset přestat zůstat dostat vědět jaký který kde kdy "
    "proč",
    "pl": "być mieć móc chcieć robić zrobić iść powiedzieć dać wziąć musieć zostać przestać dostać wiedzieć jaki który "
    "gdzie kiedy dlaczego",
    "hr": "biti imati moći htjeti reći dati uzeti morati ostati prestati dobiti koliko gdje kada zašto koji",
    "ro": "fi avea putea vrea face spune da lua trebui rămâne primi ști unde când care cât",
}


@dataclass
class Topics:
    """A fitted theme model: vocabulary, idf and one non-negative component per theme."""

    terms: list[str]
    idf: np.ndarray
    components: np.ndarray
    theme_ids: list[int]
    # Each term as people write it (accents kept), for names; empty: the terms themselves.
    spelled: list[str] = field(default_factory=list)
    # Names chosen when fitting (themes merged across languages are named in their largest language); not stored: a
    # theme keeps its name in `text_themes`.
    labels: list[str] = field(default_factory=list)

    def names(self) -> list[str]:
        """A readable name per theme: the terms that weigh most in it and least in the others, as people write them."""
        if len(self.labels) == len(self.components):
            return list(self.labels)
        return [" / ".join(self.telling_terms(i, TOP_TERMS)) for i in range(len(self.components))]

    def telling_terms(self, index: int, count: int, skip: frozenset[int] = frozenset()) -> list[str]:
        """The terms that weigh most in one theme and least in the others, as people write them (not those skipped)."""
        # A term every theme shares (a brand name) describes none of them: weight times its share in this theme.
        shares = self.components / (self.components.sum(axis=0, keepdims=True) + 1e-12)
        distinct = self.components[index] * shares[index]
        order = [i for i in np.argsort(distinct)[::-1][: count + len(skip)] if distinct[i] > 0 and i not in skip][
            :count
        ]
        written = self.spelled or self.terms
        return [written[i] for i in order]

    def top_terms(self, index: int, count: int = 8) -> list[str]:
        """The terms that weigh most in one theme."""
        order = np.argsort(self.components[index])[::-1][:count]
        return [self.terms[i] for i in order if self.components[index, i] > 0]

    def weights(self, documents: Sequence[str]) -> np.ndarray:
        """Each lemmatised document's weight on each theme (texts x themes); all 0 for a text they hardly explain."""
        if not documents or not len(self.components):
            return np.zeros((len(documents), len(self.components)))
        matrix = _vectorizer(self.terms, self.idf).transform(documents)
        with np.errstate(invalid="ignore"):  # the loss it reports (unused) can take sqrt of a rounding error below 0
            found, _, _ = non_negative_factorization(
                matrix, H=self.components, n_components=len(self.components), update_H=False, max_iter=400
            )
        found = np.asarray(found)
        found[np.linalg.norm(found @ self.components, axis=1) < EXPLAINED] = 0
        return found

    def to_bytes(self) -> bytes:
        """The model as an .npz archive."""
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            terms=np.array(self.terms, dtype=str),
            idf=self.idf,
            components=self.components,
            theme_ids=np.array(self.theme_ids, dtype=np.int64),
            spelled=np.array(self.spelled, dtype=str),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Topics:
        """A model stored by `to_bytes`."""
        stored = np.load(io.BytesIO(data), allow_pickle=False)
        spelled = [str(t) for t in stored["spelled"]] if "spelled" in stored else []  # models stored before spellings
        terms = [str(t) for t in stored["terms"]]
        return cls(terms, stored["idf"], stored["components"], stored["theme_ids"].tolist(), spelled)


@lru_cache(maxsize=32)
def theme_stopwords(language: str) -> frozenset[str]:
    """Words no theme is about: stopwords and generic words, with and without accents.

    Stopwords are not lemmatised into more: the lemmas of English `later`, Polish `czasie` or Czech `zprávy` (`late`,
    `czas`, `zpráva`) are words themes are about; the generic words are listed as lemmas instead (`může` -> `moci`).
    """
    code = LEMMA_CODES.get(language, language)
    words = stopwords(language) | set(GENERIC_WORDS.get("hr" if code == "hbs" else language, "").split())
    return frozenset(words | {strip_accents(w) for w in words})


def lemmatised(text: str, language: str) -> str:
    """The text's content words as accent-free lemmas, separated by spaces (stopwords left out)."""
    stop = theme_stopwords(language)
    words = (w for w in WORD.findall(text.lower()) if w not in stop)
    lemmas = (strip_accents(lemma_of(w, LEMMA_CODES.get(language, language))) for w in words)
    return " ".join(lemma for lemma in lemmas if len(lemma) > 2 and lemma not in stop)


def spellings(texts: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Each accent-free lemma as its texts write it most often (with accents on a tie): `adresa` where Czech and
    Croatian texts outnumber the Romanian `adresă`, `záruka` where reviews keep their diacritics."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for text, language in texts:
        stop = theme_stopwords(language)
        for word in WORD.findall(text.lower()):
            if word not in stop:
                lemma = lemma_of(word, LEMMA_CODES.get(language, language))
                counts[strip_accents(lemma)][lemma] += 1
    return {plain: max(found, key=lambda w: (found[w], w != plain)) for plain, found in counts.items()}


@lru_cache(maxsize=200_000)
def lemma_of(word: str, code: str) -> str:
    """A word's lemma in a simplemma language (the word itself where simplemma knows no such language)."""
    try:
        return str(simplemma.lemmatize(word, lang=code)).lower()
    except ValueError:  # a language simplemma does not know: the word as it is
        return word


def split(topics: Topics, index: int, documents: Sequence[str]) -> np.ndarray:
    """Two components that replace theme `index`, fitted to its documents in the model's vocabulary."""
    matrix = _vectorizer(topics.terms, topics.idf).transform(documents)
    model = NMF(n_components=2, init="nndsvda", random_state=0, max_iter=500)
    with np.errstate(invalid="ignore"):
        model.fit(matrix)
    return np.asarray(model.components_)


def assigned(weights: np.ndarray) -> list[list[tuple[int, float]]]:
    """Per text: (theme index, share of the text's theme weight) for the themes it is about, strongest first."""
    result = []
    for row in weights:
        total = float(row.sum())
        order = np.argsort(row)[::-1][:MOST]
        result.append(
            [(int(i), round(float(row[i]) / total, 4)) for i in order if total > 0 and row[i] / total >= SHARE]
        )
    return result


def _vectorizer(terms: list[str], idf: np.ndarray) -> TfidfVectorizer:
    vectorizer = TfidfVectorizer(token_pattern=r"\S+", sublinear_tf=True)
    vectorizer.vocabulary_ = {term: i for i, term in enumerate(terms)}
    vectorizer.idf_ = idf
    return vectorizer
