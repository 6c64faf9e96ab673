"""The cold-start head on short held-out opinions: praise by a negated complaint, a comparison or a small quantity,
and their negative counterparts (`tests/text/data/short_opinions.tsv`, 20 sentences per language, not in the seed);
then statements, questions and requests without an opinion (`neutral_statements.tsv`, 20 per language).

    PYTHONPATH=src .venv/bin/python -u benchmarks/text_short_opinions.py [HEAD.npz ...]

Prints, per language, pattern and label, how many get their label (positive / negative; neutral counts as wrong), how
many the sign of their score, and how many the opposite label. With head files (as `python -m cxm.text.coldstart`
writes them), each is measured in turn instead of the shipped one.
"""

from __future__ import annotations

import csv
import os
import sys
from collections import defaultdict
from pathlib import Path

from text_misfires import head_from

from cxm.text.embeddings import Embedder, shared_model
from cxm.text.engine import OfflineEngine
from cxm.text.sentiment import Sentiment

HELD_OUT = Path(__file__).resolve().parents[1] / "tests" / "text" / "data" / "short_opinions.tsv"
NEUTRAL = HELD_OUT.with_name("neutral_statements.tsv")
OPPOSITE = {"positive": "negative", "negative": "positive"}


def held_out(path: Path = HELD_OUT) -> list[dict[str, str]]:
    """The held-out rows: language, label, pattern, text."""
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def tally(rows: list[dict[str, str]], found: list[Sentiment], key: str) -> dict[str, list[int]]:
    """Per value of `key`: [right label, right sign, opposite label, sentences]."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for row, sentiment in zip(rows, found, strict=True):
        count = counts[row[key]]
        count[0] += sentiment.label == row["label"]
        count[1] += (sentiment.score > 0) == (row["label"] == "positive")
        count[2] += sentiment.label == OPPOSITE[row["label"]]
        count[3] += 1
    return counts


def report(engine: OfflineEngine) -> None:
    """Print one engine's figures by language, by pattern and by label."""
    rows = held_out()
    found = engine.sentiments([r["text"] for r in rows])
    for key in ("language", "pattern", "label"):
        for value, (label, sign, opposite, n) in tally(rows, found, key).items():
            print(f"  {key} {value}: label {label}/{n}, sign {sign}/{n}, opposite label {opposite}")
    label = sum(s.label == r["label"] for r, s in zip(rows, found, strict=True))
    print(f"  all: label {label}/{len(rows)}")
    report_neutral(engine)


def report_neutral(engine: OfflineEngine) -> None:
    """Print how many statements, questions and requests without an opinion are labelled neutral, by language."""
    rows = held_out(NEUTRAL)
    found = engine.sentiments([r["text"] for r in rows])
    calm: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row, sentiment in zip(rows, found, strict=True):
        calm[row["language"]][0] += sentiment.label == "neutral"
        calm[row["language"]][1] += 1
    shown = ", ".join(f"{language} {right}/{n}" for language, (right, n) in calm.items())
    print(f"  neutral statements labelled neutral: {shown}; all {sum(r for r, _ in calm.values())}/{len(rows)}")


def main() -> None:
    """Print the figures of each head given (the shipped one when none)."""
    embedder = Embedder(shared_model())
    paths: list[str | None] = [*sys.argv[1:]] or [None]
    for path in paths:
        print(f"head: {path or 'shipped'}")
        report(OfflineEngine(keyphrases="rake", head=head_from(path, embedder) if path else None))
    print(f"load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
