"""The shipped cold-start head on short opinions the seed teaches by example: praise by a negated complaint or by a
small quantity, and their negative counterparts; and on statements, questions and requests that hold no opinion. The
sentences were written for these tests and are not in the seed."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import pytest

from cxm.text.engine import cold_start_head
from cxm.text.seed import SEED_LANGUAGES, seed_texts
from cxm.text.sentiment import label_for

HELD_OUT = Path(__file__).parent / "data" / "short_opinions.tsv"
NEUTRAL = Path(__file__).parent / "data" / "neutral_statements.tsv"
# Patterns the seed teaches. "comparison" ("cheaper than elsewhere" vs "dearer than elsewhere") is in the file but not
# asserted: E5 embeds such pairs almost alike (cosine ~0.99), and seed rows of it cost the head its film transfer.
TAUGHT = ("negation", "quantity")


@dataclass(frozen=True)
class Opinion:
    """A held-out sentence with its language, label and pattern."""

    language: str
    label: str
    pattern: str
    text: str


def held_out(path: Path = HELD_OUT) -> list[Opinion]:
    """Every sentence of a held-out file."""
    with path.open(encoding="utf-8") as f:
        return [Opinion(**row) for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)]


def test_held_out_sentences_are_not_in_the_seed() -> None:
    seed = {i.text.casefold() for i in seed_texts()}
    assert not [o.text for o in (*held_out(), *held_out(NEUTRAL)) if o.text.casefold() in seed]


@pytest.mark.parametrize("language", SEED_LANGUAGES)
def test_negated_complaints_and_small_quantities_get_the_sign_of_their_label(language: str) -> None:
    opinions = [o for o in held_out() if o.language == language and o.pattern in TAUGHT]
    scores = cold_start_head().scores([o.text for o in opinions])
    right = [o.text for o, s in zip(opinions, scores, strict=True) if (s > 0) == (o.label == "positive")]
    assert len(opinions) == 14 and len(right) >= 11, sorted({o.text for o in opinions} - set(right))


@pytest.mark.parametrize("language", SEED_LANGUAGES)
def test_statements_questions_and_requests_stay_neutral(language: str) -> None:
    statements = [o for o in held_out(NEUTRAL) if o.language == language]
    scores = cold_start_head().scores([o.text for o in statements])
    calm = [o.text for o, s in zip(statements, scores, strict=True) if label_for(float(s)) == "neutral"]
    assert len(statements) == 20 and len(calm) >= 15, sorted({o.text for o in statements} - set(calm))
