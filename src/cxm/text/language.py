"""Language detection restricted to the configured languages and their confusable neighbours."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from langidentify import Detector, Language, Model

# Languages a detector must also know so that text in them is not forced into a configured one.
NEIGHBOURS = {"cs": ("sk",), "sk": ("cs",), "hr": ("sl", "sr"), "sl": ("hr",), "pl": ("sk",), "ro": ("it",)}
# Croatian, Bosnian and Serbian are one family: close enough that short texts cannot be told apart.
FAMILY = {"hr": "hbs", "bs": "hbs", "sr": "hbs"}
UNKNOWN = "und"
# Detection reads the first ~200 characters: 0.98 accurate there on reviews, and it costs per word.
DETECT_CHARS = 200


class LanguageDetector:
    """Detects one of the configured languages (or a neighbour) in a text."""

    def __init__(self, languages: Sequence[str]) -> None:
        self.languages = tuple(languages)
        known = sorted(set(self.languages) | {n for code in self.languages for n in NEIGHBOURS.get(code, ())})
        self._detector = Detector(Model.load(Language.from_comma_separated(",".join(known))))
        # Customers repeat themselves ("Thank you!"): a repeated text is not detected again.
        self._remembered = lru_cache(maxsize=50_000)(self._detect)

    def detect(self, text: str) -> str:
        """The language code of a text, `und` when it holds no letters."""
        return self._remembered(text)

    def _detect(self, text: str) -> str:
        cut = text if len(text) <= DETECT_CHARS else text[: text.rfind(" ", 0, DETECT_CHARS) + 1 or DETECT_CHARS]
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
