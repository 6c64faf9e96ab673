"""Cold-start misfires on a demo database: comments whose sentiment label contradicts their own response's score.

Promoters (NPS 9-10, CSAT 4-5) labelled negative and detractors (NPS 0-6, CSAT 1-2) labelled positive by the shipped
cold-start engine alone (no character model), analysed afresh (not the stored signals); then the same for the demo
generator's own sentences, whose sentiment is known.

    CXM_DATABASE_URL=sqlite:////tmp/d.db PYTHONPATH=src .venv/bin/python -u benchmarks/text_misfires.py [HEAD.npz ...]

With head files (as `python -m cxm.text.coldstart` writes them), each is measured in turn instead of the shipped one.
"""

from __future__ import annotations

import io
import os
import sys
from collections import Counter
from pathlib import Path

import numpy as np
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from cxm.demo import comments as demo_comments
from cxm.feedback import service as feedback_service
from cxm.text.embeddings import Embedder, shared_model
from cxm.text.engine import OfflineEngine
from cxm.text.sentiment import EmbeddingHead

OPPOSITE = {"positive": "negative", "negative": "positive"}


def misfires(engine: OfflineEngine, texts: list[str], expected: list[str]) -> tuple[int, list[str]]:
    """How many texts got the label opposite to the expected one, and those texts."""
    found = [s.label for s in engine.sentiments(texts)]
    wrong = [t for t, label, want in zip(texts, found, expected, strict=True) if label == OPPOSITE[want]]
    return len(wrong), wrong


def generator_sentences() -> tuple[list[str], list[str]]:
    """The demo's theme sentences with a product and a city filled in, and their sentiment."""
    texts, labels = [], []
    for sentences in demo_comments.SENTENCES.values():
        for (_, sentiment), templates in sentences.items():
            for template in templates:
                texts.append(template.format(product="Lumo Watch S", city="Praha"))
                labels.append(sentiment)
    return texts, labels


def head_from(path: str, embedder: Embedder) -> EmbeddingHead:
    """A head stored in a file, as `coldstart.load_head` reads the shipped one."""
    stored = np.load(io.BytesIO(Path(path).read_bytes()), allow_pickle=False)
    head = EmbeddingHead(embedder, c=float(stored["c"]))
    head.model.coef_, head.model.intercept_, head.model.classes_ = (
        stored["coef"],
        stored["intercept"],
        stored["classes"],
    )
    return head


def main() -> None:
    """Print the misfire rates of each head given (the shipped one when none)."""
    with Session(create_engine(os.environ["CXM_DATABASE_URL"])) as session:
        rated = feedback_service.rated_comments(session)
    embedder = Embedder(shared_model())  # shared: each head scores the same embeddings
    for path in sys.argv[1:] or [None]:
        head = head_from(path, embedder) if path else None
        print(f"head: {path or 'shipped'}")
        report(OfflineEngine(keyphrases="rake", head=head), rated)


def report(engine: OfflineEngine, rated: list[feedback_service.RatedComment]) -> None:
    """Print one engine's misfires on the comments and on the generator's sentences."""
    wrong, texts = misfires(engine, [c.text for c in rated], [c.label for c in rated])
    shown = Counter((c.label, s.label) for c, s in zip(rated, engine.sentiments([c.text for c in rated]), strict=True))
    for side in ("positive", "negative"):
        print(
            f"  by score {side}: "
            + ", ".join(f"{label} {n}" for (want, label), n in sorted(shown.items()) if want == side)
        )
    print(f"demo comments: {wrong} of {len(rated)} labelled against their score ({wrong / max(len(rated), 1):.1%})")
    for text, n in Counter(texts).most_common(8):
        print(f"  {n:4}  {text[:110]}")
    sentences, labels = generator_sentences()
    wrong, texts = misfires(engine, sentences, labels)
    print(f"generator sentences: {wrong} of {len(sentences)} labelled against their sentiment")
    for text in texts:
        print(f"  {text}")
    print(f"load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
