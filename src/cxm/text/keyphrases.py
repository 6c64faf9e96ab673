"""Keyphrases per text: YAKE, or a RAKE-style extractor ten times faster; stopwords merged from stopwords-iso
and their accent-free forms."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import lru_cache

import stopwordsiso
import yake

# YAKE names a few languages its own way.
YAKE_CODES = {"cs": "cz"}
FAMILY_STOPWORDS = {"hr": ("hr", "bs", "sr")}


def keyphrases(text: str, language: str, *, top: int = 5) -> list[str]:
    """The most characteristic phrases of one to three words, best first."""
    if not text.strip():
        return []
    return [phrase for phrase, _ in _extractor(language, top).extract_keywords(text)]


# Words (with inner apostrophes or hyphens) and the punctuation that ends a phrase.
TOKEN = re.compile(
    r"[^\W\d_]+(?:['\u2019-][^\W\d_]+)*"  # a word
    r"|[.,;:!?()\[\]\"\u00ab\u00bb\u201e\u201c\u201d\u2026\u2013\u2014/]"  # punctuation that ends a phrase
)
LONGEST = 3


def quick_keyphrases(text: str, language: str, *, top: int = 5) -> list[str]:
    """RAKE: runs of content words between stopwords and punctuation, scored by word degree / frequency."""
    phrases = _candidates(text, stopwords(language))
    frequency = Counter(w for p in phrases for w in p)
    degree: Counter[str] = Counter()
    for phrase in phrases:
        for word in phrase:
            degree[word] += len(phrase)
    scored = {" ".join(p): sum(degree[w] / frequency[w] for w in p) for p in phrases}
    return sorted(scored, key=lambda p: -scored[p])[:top]


def _candidates(text: str, stop: set[str]) -> list[tuple[str, ...]]:
    """Runs of up to three content words (longer runs are cut), lower-cased."""
    found, run = [], []
    for token in [*TOKEN.findall(text.lower()), "."]:
        if len(token) > 1 and token not in stop:
            run.append(token)
            continue
        found += [tuple(run[i : i + LONGEST]) for i in range(0, len(run), LONGEST)]
        run = []
    return found


@lru_cache(maxsize=32)
def _extractor(language: str, top: int) -> yake.KeywordExtractor:
    return yake.KeywordExtractor(
        lan=YAKE_CODES.get(language, language), n=3, top=top, stopwords=frozenset(stopwords(language))
    )


@lru_cache(maxsize=32)
def stopwords(language: str) -> set[str]:
    """Stopwords of a language, with and without diacritics (many comments are typed without them)."""
    words: set[str] = set()
    for code in FAMILY_STOPWORDS.get(language, (language,)):
        if stopwordsiso.has_lang(code):
            words |= set(stopwordsiso.stopwords(code))
    return words | {strip_accents(w) for w in words}


def strip_accents(word: str) -> str:
    """The word without combining marks (č -> c, ș -> s); ł and ø stay as they are."""
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))
