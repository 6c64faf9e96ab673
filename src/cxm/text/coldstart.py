"""The cold-start sentiment head: trained from the seed set at build time and shipped beside it.

Rebuild after editing the seed files: `python -m cxm.text.coldstart` (about a minute on two cores).
"""

from __future__ import annotations

import hashlib
import io
from importlib import resources
from pathlib import Path

import numpy as np

from cxm.text.embeddings import Embedder, shared_model
from cxm.text.seed import SEED_LANGUAGES, seed_texts
from cxm.text.sentiment import EmbeddingHead

HEAD_FILE = "seed/head.npz"


def seed_digest() -> str:
    """SHA-256 of the seed files, so a shipped head can be checked against the sentences it came from."""
    digest = hashlib.sha256()
    for language in SEED_LANGUAGES:
        digest.update(resources.files("cxm.text").joinpath(f"seed/{language}.tsv").read_bytes())
    return digest.hexdigest()


def train_head(embedder: Embedder) -> EmbeddingHead:
    """An embedding head trained on every seed sentence."""
    items = seed_texts()
    return EmbeddingHead(embedder).fit([i.text for i in items], [i.label for i in items])


def head_bytes(head: EmbeddingHead) -> bytes:
    """A trained head as an .npz archive with the digest of its seed."""
    buffer = io.BytesIO()
    model = head.model
    np.savez(
        buffer,
        coef=model.coef_,
        intercept=model.intercept_,
        classes=np.array(model.classes_, dtype=str),
        digest=np.array(seed_digest()),
    )
    return buffer.getvalue()


def shipped_digest() -> str:
    """The seed digest the shipped head was trained from."""
    return str(_stored()["digest"])


def load_head(embedder: Embedder) -> EmbeddingHead:
    """The shipped cold-start head."""
    stored = _stored()
    head = EmbeddingHead(embedder)
    head.model.coef_, head.model.intercept_ = stored["coef"], stored["intercept"]
    head.model.classes_ = stored["classes"]
    return head


def _stored() -> np.lib.npyio.NpzFile:
    data = resources.files("cxm.text").joinpath(HEAD_FILE).read_bytes()
    stored: np.lib.npyio.NpzFile = np.load(io.BytesIO(data), allow_pickle=False)
    return stored


if __name__ == "__main__":
    target = Path(__file__).parent / HEAD_FILE
    target.write_bytes(head_bytes(train_head(Embedder(shared_model()))))
    print(f"wrote {target}")
