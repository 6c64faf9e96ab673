"""Keyphrases per text with YAKE, stopwords merged from YAKE, stopwords-iso and their accent-free forms."""

from __future__ import annotations

import unicodedata
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
