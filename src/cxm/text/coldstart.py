"""The cold-start sentiment head: trained from the seed set at build time and shipped beside it.

Rebuild after editing the seed files: `python -m cxm.text.coldstart` (about a minute on two cores). The head's
regularisation is chosen by cross-validation on the seed set when it is built.
"""

from __future__ import annotations

import hashlib
import io
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score
from sklearn.model_selection import GroupKFold

from cxm.text.embeddings import Embedder, shared_model
from cxm.text.evaluation import figures
from cxm.text.seed import SEED_LANGUAGES, LabelledText, seed_texts
from cxm.text.sentiment import EmbeddingHead, head_classifier, label_for, polarity

HEAD_FILE = "seed/head.npz"
# Regularisation strengths the build tries; the seed set is small, so a wrong one over- or underfits it visibly.
C_GRID = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0)
FOLDS = 5


def seed_digest() -> str:
    """SHA-256 of the seed files, so a shipped head can be checked against the sentences it came from."""
    digest = hashlib.sha256()
    for language in SEED_LANGUAGES:
        digest.update(resources.files("cxm.text").joinpath(f"seed/{language}.tsv").read_bytes())
    return digest.hexdigest()


def train_head(embedder: Embedder, c: float | None = None) -> EmbeddingHead:
    """An embedding head trained on every seed sentence; C by cross-validation unless given."""
    items = seed_texts()
    c = chosen_c(cross_validated(EmbeddingHead(embedder), items)) if c is None else c
    return EmbeddingHead(embedder, c=c).fit([i.text for i in items], [i.label for i in items])


def cross_validated(head: EmbeddingHead, items: list[LabelledText]) -> dict[float, list[float]]:
    """Each C's scores (`_fold_score`) on folds of the seed set that keep a sentence's translations together."""
    rows, labels = head.embed([i.text for i in items]), np.array([i.label for i in items])
    splits = list(GroupKFold(FOLDS).split(rows, labels, groups=_sentence_ids(items)))
    return {c: [_fold_score(c, rows, labels, train, test) for train, test in splits] for c in C_GRID}


def _fold_score(c: float, rows: np.ndarray, labels: np.ndarray, train: np.ndarray, test: np.ndarray) -> float:
    """Mean of two macro-F1s on a held-out fold: of the labels cxm shows (the score's thresholds) and of positive vs
    negative by the score's sign (what `cxm text evaluate` reports). The first alone favours weak regularisation
    (confident scores), the second strong regularisation (scores squeezed towards 0, labels mostly neutral)."""
    model = head_classifier(c).fit(rows[train], labels[train])
    scores, truth = polarity(model, model.predict_proba(rows[test])), labels[test]
    shown = float(f1_score(truth, [label_for(float(s)) for s in scores], average="macro"))
    opinions = truth != "neutral"
    return (shown + figures(truth[opinions], scores[opinions]).macro_f1) / 2


def chosen_c(found: dict[float, list[float]]) -> float:
    """The strongest regularisation whose mean score is within one standard error of the best one's (the seed set
    is small: closer differences are noise)."""
    means = {c: float(np.mean(scores)) for c, scores in found.items()}
    best = max(means, key=lambda c: means[c])
    margin = float(np.std(found[best], ddof=1) / np.sqrt(len(found[best])))
    return min(c for c, mean in means.items() if mean >= means[best] - margin)


def _sentence_ids(items: list[LabelledText]) -> list[int]:
    """Row number within its language file: the files are parallel, so a row's translations share its number."""
    seen: dict[str, int] = {}
    ids = []
    for item in items:
        ids.append(seen.get(item.language, 0))
        seen[item.language] = ids[-1] + 1
    return ids


def head_bytes(head: EmbeddingHead) -> bytes:
    """A trained head as an .npz archive with the digest of its seed."""
    buffer = io.BytesIO()
    model = head.model
    np.savez(
        buffer,
        coef=model.coef_,
        intercept=model.intercept_,
        classes=np.array(model.classes_, dtype=str),
        c=np.array(model.C),
        digest=np.array(seed_digest()),
    )
    return buffer.getvalue()


@cache
def head_version() -> str:
    """Names the shipped head (first 12 hex digits of the SHA-256 of head.npz): signals record which head made them."""
    return hashlib.sha256(resources.files("cxm.text").joinpath(HEAD_FILE).read_bytes()).hexdigest()[:12]


def shipped_digest() -> str:
    """The seed digest the shipped head was trained from."""
    return str(_stored()["digest"])


def load_head(embedder: Embedder) -> EmbeddingHead:
    """The shipped cold-start head."""
    stored = _stored()
    head = EmbeddingHead(embedder, c=float(stored["c"]))
    head.model.coef_, head.model.intercept_ = stored["coef"], stored["intercept"]
    head.model.classes_ = stored["classes"]
    return head


def _stored() -> np.lib.npyio.NpzFile:
    data = resources.files("cxm.text").joinpath(HEAD_FILE).read_bytes()
    stored: np.lib.npyio.NpzFile = np.load(io.BytesIO(data), allow_pickle=False)
    return stored


def build() -> None:
    """Write the head trained on the current seed files, printing each C's cross-validated score (`_fold_score`)."""
    embedder = Embedder(shared_model())
    found = cross_validated(EmbeddingHead(embedder), seed_texts())
    for c, scores in found.items():
        error = np.std(scores, ddof=1) / np.sqrt(FOLDS)
        print(f"C={c:g}: {np.mean(scores):.4f} +- {error:.4f} (mean of {FOLDS} folds, its standard error)")
    target = Path(__file__).parent / HEAD_FILE
    head = train_head(embedder, chosen_c(found))
    target.write_bytes(head_bytes(head))
    print(f"wrote {target} (C={head.model.C:g})")


if __name__ == "__main__":
    build()
