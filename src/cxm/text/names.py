"""Which words of a company's texts are names (products, stores, towns, the brand), not what customers talk about.

A name is written with a capital letter in the middle of a sentence in most of its uses ("the Lumo Purify broke",
"delivery to Ostrava", "a USB-C cable"); a name of several words goes on with the words that follow its capitalised
part in most of their uses, and that it is followed by often ("Lumo Air 3 headphones", "Lumo Halo desk lamp":
`headphones`, `desk`, `lamp`). A word that follows many names ("broke", after any product) is about something and
stays a word. Found over lemmas as themes use them (accent-free), so a name's lemma is what themes leave out.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from cxm.text.keyphrases import strip_accents
from cxm.text.topics import LEMMA_CODES, lemma_of, theme_stopwords

TOKEN = re.compile(r"[^\W_]+|[.!?:;\n]")
# A word is a name when at least this share of its uses inside a sentence are a name's.
NAMED = 0.5
# ... and a lowercase word goes on a name when that name is followed by it in at least this share of its uses
# ("air" is followed by "headphones" in half of its uses, by "purifier" in the other half).
FOLLOWED = 0.3
# Words used fewer times than this inside sentences are left as words: two uses tell nothing ("costă" after two
# different products).
FEWEST = 5
# Languages that capitalise every noun: a capital letter tells no name there, so none of their words is taken for one.
NOUNS_CAPITALISED = frozenset({"de", "lb"})


@dataclass
class Uses:
    """How a company's texts use each lemma: inside a sentence, capitalised there, and which lemma came before."""

    inside: Counter[str] = field(default_factory=Counter)
    capitalised: Counter[str] = field(default_factory=Counter)
    total: Counter[str] = field(default_factory=Counter)
    after: defaultdict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    models: set[str] = field(default_factory=set)

    def read(self, text: str, language: str) -> None:
        """Count one text's words."""
        if text.isupper():  # a shouted text's capitals tell nothing
            return
        stop, code = theme_stopwords(language), LEMMA_CODES.get(language, language)
        previous, first = None, True
        for token in TOKEN.findall(text):
            if not token.isdigit():  # "Air 3 headphones": a number goes on a name
                previous, first = self._word(token, stop, code, previous, first)

    def _word(
        self, token: str, stop: frozenset[str], code: str, previous: str | None, first: bool
    ) -> tuple[str | None, bool]:
        """Count one token; what the next one follows, and whether it starts a sentence."""
        word = token.lower()
        if not token.isalpha() and token.isalnum():  # a model number ("K17 kettle") is a name
            self.models.add(word)
            self.total[word] += 1
            return word, False
        if not token.isalpha() or len(token) < 3 or word in stop:
            return None, not token.isalpha()
        lemma = strip_accents(lemma_of(word, code))
        self._count(lemma, token, previous, first)
        return lemma, False

    def _count(self, lemma: str, token: str, previous: str | None, first: bool) -> None:
        self.total[lemma] += 1
        if first:  # a sentence's first word is capitalised whatever it is
            return
        self.inside[lemma] += 1
        if token[0].isupper():
            self.capitalised[lemma] += 1
        elif previous is not None:
            self.after[lemma][previous] += 1

    def names(self) -> frozenset[str]:
        """The lemmas that are names or go on names, found round by round (a name of several words)."""
        used = [w for w, n in self.inside.items() if n >= FEWEST]
        found = self.models | {w for w in used if self.capitalised[w] >= NAMED * self.inside[w]}
        while grown := {w for w in used if w not in found and self._goes_on(w, found)}:
            found |= grown
        return frozenset(found)

    def _goes_on(self, lemma: str, found: set[str]) -> bool:
        """Whether the lemma mostly follows one name that is often followed by it."""
        before = [(n, p) for p, n in self.after[lemma].items() if p in found]
        if not before:
            return False
        count, name = max(before)
        named = self.capitalised[lemma] + count >= NAMED * self.inside[lemma]
        return named and count >= FOLLOWED * self.total[name]


def name_terms(texts: Iterable[tuple[str, str]]) -> frozenset[str]:
    """The accent-free lemmas that are names in these (text, language) pairs (in the texts of any language: a name
    goes on with different lemmas in different languages, `headphone` in English, `headphones` in Czech)."""
    uses: defaultdict[str, Uses] = defaultdict(Uses)
    for text, language in texts:
        if language not in NOUNS_CAPITALISED:
            uses[language].read(text, language)
    return frozenset(name for found in uses.values() for name in found.names())
