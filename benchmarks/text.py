"""Text analytics figures: speed of the fast and the embedding path, memory, and accuracy on evaluation corpora.

Run: `.venv/bin/python benchmarks/text.py [N]` (N texts per evaluation set, default 400). The corpora in
../shared/data are third-party and used for evaluation only: the "trained" figures train a throwaway character
model on one part of a corpus and test on the rest (the rated-feedback scenario); nothing is stored or shipped.
"""

from __future__ import annotations

import csv
import random
import resource
import sys
import time
from pathlib import Path

from cxm.text.engine import OfflineEngine
from cxm.text.evaluation import figures
from cxm.text.keyphrases import keyphrases
from cxm.text.seed import seed_texts
from cxm.text.sentiment import CharModel, EmbeddingHead

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
CORPORA = {
    "cs": ("cs-csfd-reviews/reviews.csv", "stars", {"4", "5"}, {"0", "1", "2"}),
    "pl": ("pl-filmweb-reviews/reviews.csv", "rating", {"7", "8", "9", "10"}, {"1", "2", "3", "4"}),
}


def corpus(language: str) -> tuple[list[str], list[str]]:
    """Positive and negative texts of an evaluation corpus, shuffled with a fixed seed."""
    path, column, positive, negative = CORPORA[language]
    with (DATA / path).open(encoding="utf-8") as f:
        rows = [
            (r["text"], "positive" if r[column] in positive else "negative")
            for r in csv.DictReader(f)
            if r[column] in positive | negative
        ]
    random.Random(0).shuffle(rows)
    return [t for t, _ in rows], [label for _, label in rows]


def rate(label: str, count: int, started: float) -> None:
    print(f"{label}: {count / (time.perf_counter() - started):,.0f} texts/s")


def speed(texts: list[str], char_model: CharModel) -> None:
    """Texts per second of the fast path and of the embedding path."""
    fast = OfflineEngine(char_model=char_model, embeddings=False)
    started = time.perf_counter()
    languages = [fast.detector.detect(t) for t in texts]
    scores = char_model.scores(texts)
    rate("fast path, language only", len(texts), started)
    for text, language in zip(texts, languages, strict=True):
        keyphrases(text, language)
    rate(f"fast path (language + character sentiment + keyphrases, {len(scores)} texts)", len(texts), started)
    sample = texts[:200]
    full = OfflineEngine(char_model=char_model)
    started = time.perf_counter()
    full.analyze(sample)
    rate("embedding path (language + E5 head + character model + mixed clauses + keyphrases)", len(sample), started)


def seed_holdout() -> None:
    """Leave-one-language-out on the seed set: how the head transfers to a language it never saw."""
    items, head = seed_texts(), OfflineEngine().head
    assert head is not None
    for language in ("en", "cs", "pl", "hr", "ro"):
        train = [i for i in items if i.language != language]
        test = [i for i in items if i.language == language and i.label != "neutral"]
        model = EmbeddingHead(head.embedder).fit([i.text for i in train], [i.label for i in train])
        result = figures([i.label for i in test], model.scores([i.text for i in test]))
        print(f"seed, {language} unseen (pos vs neg): {result.describe()}")


def corpora(n: int) -> CharModel:
    """Cold start and trained-on-the-corpus figures per evaluation corpus; the Czech trained model is returned."""
    head, trained_cs = OfflineEngine().head, CharModel()
    assert head is not None
    for language in CORPORA:
        texts, labels = corpus(language)
        test, test_labels = texts[:n], labels[:n]
        cold = head.scores(test)
        print(f"{language} cold start (E5 head from the seed): {figures(test_labels, cold).describe()}", flush=True)
        model = CharModel().fit(texts[n:], labels[n:])
        trained = model.scores(test)
        print(f"{language} trained on {len(texts) - n} other texts: {figures(test_labels, trained).describe()}")
        both = (cold + trained) / 2
        print(f"{language} ensemble (mean of both): {figures(test_labels, both).describe()}", flush=True)
        trained_cs = model if language == "cs" else trained_cs
    return trained_cs


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    model = corpora(n)
    seed_holdout()
    texts, _ = corpus("cs")
    speed([t[:300] for t in texts[:3000]], model)
    print(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")


if __name__ == "__main__":
    main()
