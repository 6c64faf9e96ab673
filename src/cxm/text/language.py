"""Language detection restricted to the configured languages and their confusable neighbours."""

from __future__ import annotations

from collections.abc import Sequence

from langidentify import Detector, Language, Model

# Languages a detector must also know so that text in them is not forced into a configured one.
NEIGHBOURS = {"cs": ("sk",), "sk": ("cs",), "hr": ("sl", "sr"), "sl": ("hr",), "pl": ("sk",), "ro": ("it",)}
# Croatian, Bosnian and Serbian are one family: close enough that short texts cannot be told apart.
FAMILY = {"hr": "hbs", "bs": "hbs", "sr": "hbs"}
UNKNOWN = "und"


class LanguageDetector:
    """Detects one of the configured languages (or a neighbour) in a text."""

    def __init__(self, languages: Sequence[str]) -> None:
        self.languages = tuple(languages)
        known = sorted(set(self.languages) | {n for code in self.languages for n in NEIGHBOURS.get(code, ())})
        self._detector = Detector(Model.load(Language.from_comma_separated(",".join(known))))

    def detect(self, text: str) -> str:
        """The language code of a text, `und` when it holds no letters."""
        found = self._detector.detect(text)
        if found is Language.UNKNOWN:
            return UNKNOWN
        return self._within_family(str(found.iso_code))

    def _within_family(self, code: str) -> str:
        """A family member is reported as the configured member of that family."""
        family = FAMILY.get(code)
        if code in self.languages or family is None:
            return code
        return next((c for c in self.languages if FAMILY.get(c) == family), code)
