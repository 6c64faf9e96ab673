"""Language detection restricted to the configured languages and their confusable neighbours."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from langidentify import Detector, Language, Model
from langidentify.detector import Scores

# Languages a detector must also know so that text in them is not forced into a configured one.
NEIGHBOURS = {"cs": ("sk",), "sk": ("cs",), "hr": ("sl", "sr"), "sl": ("hr",), "pl": ("sk",), "ro": ("it",)}
# Croatian, Bosnian and Serbian are one family: close enough that short texts cannot be told apart.
FAMILY = {"hr": "hbs", "bs": "hbs", "sr": "hbs"}
UNKNOWN = "und"
# Detection reads the first ~200 characters: 0.98 accurate there on reviews, and it costs per word.
DETECT_CHARS = 200
# Distinct words whose scores a detector remembers (up to ~1 KB each; when full, it starts over).
WORD_MEMORY = 30_000
# What one word adds to the scores: whether it counts, per language (index, n-gram score, n-gram hits, top-word
# score, top-word hits), and top-word look-ups.
Added = tuple[bool, list[tuple[int, float, int, float, int]], int]


class LanguageDetector:
    """Detects one of the configured languages (or a neighbour) in a text."""

    def __init__(self, languages: Sequence[str]) -> None:
        self.languages = tuple(languages)
        known = sorted(set(self.languages) | {n for code in self.languages for n in NEIGHBOURS.get(code, ())})
        self._detector = RememberingDetector(Model.load(Language.from_comma_separated(",".join(known))))
        # langidentify's detector adds a text's scores up in itself: threads sharing it (the API's and the worker's)
        # would mix their texts' scores.
        self._detecting = threading.Lock()
        # Customers repeat themselves ("Thank you!"): a repeated text is not detected again.
        self._remembered = lru_cache(maxsize=50_000)(self._detect)

    def detect(self, text: str) -> str:
        """The language code of a text, `und` when it holds no letters."""
        return self._remembered(text)

    def _detect(self, text: str) -> str:
        cut = text if len(text) <= DETECT_CHARS else text[: text.rfind(" ", 0, DETECT_CHARS) + 1 or DETECT_CHARS]
        with self._detecting:
            found = self._detector.detect(cut)
        if found is Language.UNKNOWN:
            return UNKNOWN
        return self._within_family(str(found.iso_code))

    def _within_family(self, code: str) -> str:
        """A family member is reported as the configured member of that family."""
        family = FAMILY.get(code)
        if code in self.languages or family is None:
            return code
        return next((c for c in self.languages if FAMILY.get(c) == family), code)


class RememberingDetector(Detector):  # type: ignore[misc]
    """langidentify's detector (1.0.2), remembering what each word adds to the scores: words repeat across texts.

    A word's additions are summed once, then added to a text's scores: the same sums in another order, so a score
    may differ in its last bit (a test checks that detection is unchanged on real reviews).
    """

    def __init__(self, model: Any) -> None:
        super().__init__(model)
        self._words: dict[str, Added] = {}

    def _score_word(self, word: str) -> bool:
        added = self._words.get(word)
        if added is None:
            added = self._added(word)
        scores = self._results.scores
        counted, rows, lookups = added
        for language, ngram, hits, top, top_hits in rows:
            scores.ngram_scores[language] += ngram
            scores.ngram_hits_per_lang[language] += hits
            scores.tw_scores[language] += top
            scores.tw_hits_per_lang[language] += top_hits
        scores.tw_num_lookups += lookups
        return counted

    def _added(self, word: str) -> Added:
        """Score the word alone, on scores of its own, and remember what it added."""
        results, kept = self._results, self._results.scores
        alone = results.scores = Scores(self._model)
        try:
            counted = bool(super()._score_word(word))
        finally:
            results.scores = kept
        columns = (alone.ngram_scores, alone.ngram_hits_per_lang, alone.tw_scores, alone.tw_hits_per_lang)
        rows = [(i, *values) for i, values in enumerate(zip(*columns, strict=True)) if any(values)]
        if len(self._words) >= WORD_MEMORY:
            self._words.clear()
        self._words[word] = added = (counted, rows, alone.tw_num_lookups)
        return added
