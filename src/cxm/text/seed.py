"""The seed set: labelled customer-experience sentences written for cxm, one file per language."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources

SEED_LANGUAGES = ("en", "cs", "pl", "hr", "ro")
LABELS = ("negative", "neutral", "positive")


@dataclass(frozen=True)
class LabelledText:
    """One text with its sentiment label and language."""

    text: str
    label: str
    language: str


def seed_texts(languages: tuple[str, ...] = SEED_LANGUAGES) -> list[LabelledText]:
    """Every seed sentence of the given languages, in file order."""
    return [item for language in languages for item in _read(language)]


def _read(language: str) -> list[LabelledText]:
    text = resources.files("cxm.text").joinpath(f"seed/{language}.tsv").read_text(encoding="utf-8")
    rows = csv.DictReader(text.splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE)
    return [LabelledText(row["text"], row["label"], language) for row in rows]
