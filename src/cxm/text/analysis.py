"""Every stored text analysed: by background jobs as texts arrive, and by a backfill for texts stored before."""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cxm.config import Settings
from cxm.core.errors import InvalidInput
from cxm.feedback import service as feedback_service
from cxm.interactions import service as interactions_service
from cxm.text import themes as themes_module
from cxm.text.coldstart import head_version, seed_digest
from cxm.text.engine import OfflineEngine
from cxm.text.models import TextSignal
from cxm.text.sentiment import CharModel, Scorer
from cxm.text.signals import (
    SOURCES,
    Planned,
    ThemeAssigner,
    analyze_sources,
    plan_analysis,
    signal_rows,
    write_signals,
)
from cxm.text.training import active_model

BATCH = 500
# The files of an onnx engine's model directory that make its sentiment.
ONNX_FILES = ("model.onnx", "tokenizer.json", "cxm.json")
# Engines by (languages, checksum of the active model): loading a model takes a moment, analysing must not.
_engines: dict[tuple[tuple[str, ...], int | None, str, str | None, str], OfflineEngine] = {}
Progress = Callable[[int, int], None]


def engine_for(
    session: Session,
    *,
    languages: Sequence[str],
    kind: str = "offline",
    model_dir: str | None = None,
    keyphrases: str = "yake",
) -> OfflineEngine:
    """The engine in use: the cold-start head (or the onnx model), averaged with the company's adopted model."""
    model = active_model(session)
    checksum = zlib.crc32(model.data) if model is not None and model.data else None
    key = (tuple(languages), checksum, kind, model_dir, keyphrases)
    if key not in _engines:
        char_model = CharModel.from_bytes(model.data) if model is not None and model.data else None
        head = sentiment_head(kind, model_dir)
        engine = OfflineEngine(languages=languages, char_model=char_model, head=head, keyphrases=keyphrases)
        _engines.clear()
        _engines[key] = engine
    return _engines[key]


def sentiment_head(kind: str, model_dir: str | None) -> Scorer | None:
    """The configured engine's sentiment model: the onnx engine's, or None for the shipped head."""
    if kind != "onnx":
        return None
    if not model_dir:
        raise InvalidInput("the onnx text engine needs a model directory (CXM_TEXT_MODEL_DIR)")
    from cxm.text import onnx_engine  # onnxruntime is an optional extra

    return onnx_engine.load(model_dir)


def engine_version(session: Session, *, kind: str = "offline", model_dir: str | None = None) -> str:
    """Names what produces signals now (the shipped head's hash, or the onnx model's; the adopted model's id):
    results stored by another version are not reused, and their texts count as not analysed (the next job or
    backfill redoes them)."""
    model = active_model(session)
    directory = Path(model_dir or "")
    head = f"offline:{head_version()}" if kind != "onnx" else f"onnx:{directory.name[:12]}:{onnx_version(directory)}"
    return f"{head}:{model.id if model is not None else 0}"


def onnx_version(directory: Path) -> str:
    """The first 8 hex digits of a SHA-256 over the onnx model's files and the seed set (an embedding model's head is
    fitted on the seed when it loads): another file or seed makes the engine's earlier results stale."""
    paths = [directory / name for name in ONNX_FILES if (directory / name).is_file()]
    stamps = tuple((path.name, path.stat().st_size, path.stat().st_mtime_ns) for path in paths)
    return _files_digest(str(directory), stamps)


@lru_cache(maxsize=8)
def _files_digest(directory: str, stamps: tuple[tuple[str, int, int], ...]) -> str:
    """Read once per size and modification time of the files (a model may be large)."""
    digest = hashlib.sha256(seed_digest().encode())
    for name, _, _ in stamps:
        with (Path(directory) / name).open("rb") as file:
            digest.update(name.encode() + hashlib.file_digest(file, "sha256").digest())
    return digest.hexdigest()[:8]


def analyze_stored(
    session: Session,
    source: str,
    ids: Sequence[int],
    *,
    languages: Sequence[str],
    kind: str = "offline",
    model_dir: str | None = None,
) -> int:
    """Write the signals of these responses' comments or interactions' texts; how many texts were (re)analysed."""
    engine = engine_for(session, languages=languages, kind=kind, model_dir=model_dir)
    version = engine_version(session, kind=kind, model_dir=model_dir)
    assign = themes_module.assigner(session)
    return analyze_sources(session, source, ids, engine=engine, version=version, themes=assign)


@dataclass
class StoredStep:
    """A batch of stored texts read and ready to analyse: the plan, the engine and the theme model to use."""

    planned: Planned
    engine: OfflineEngine
    version: str
    themes: ThemeAssigner | None

    def rows(self) -> list[dict[str, Any]]:
        """The signal rows (the slow part: run it outside any transaction)."""
        return signal_rows(self.planned, engine=self.engine, version=self.version, themes=self.themes)


def plan_stored(session: Session, source: str, ids: Sequence[int], *, settings: Settings) -> StoredStep:
    """Read a batch of stored texts and what analysing them needs, with the engine the settings name."""
    kind, model_dir = settings.text_engine, settings.text_model_dir
    engine = engine_for(
        session, languages=settings.text_languages, kind=kind, model_dir=model_dir, keyphrases=settings.text_keyphrases
    )
    version = engine_version(session, kind=kind, model_dir=model_dir)
    planned = plan_analysis(session, source, ids, version=version)
    return StoredStep(planned, engine, version, themes_module.assigner(session))


def write_stored(session: Session, step: StoredStep, rows: list[dict[str, Any]]) -> int:
    """Store the rows a step produced; texts written."""
    return write_signals(session, step.planned, rows)


def analysed_comments(session: Session) -> int:
    """How many responses' comments have a sentiment signal."""
    query = select(func.count(func.distinct(TextSignal.source_id))).where(
        TextSignal.source == "response", TextSignal.kind == "sentiment"
    )
    return int(session.scalar(query) or 0)


def analysed_texts(session: Session) -> int:
    """How many texts (comments and interaction texts) have a sentiment signal."""
    query = select(func.count()).where(TextSignal.kind == "sentiment")
    return int(session.scalar(query) or 0)


def stored_text_ids(session: Session, source: str) -> list[int]:
    """Every response with a comment, or every interaction with a text, by id."""
    if source == "response":
        return feedback_service.commented_responses(session, after_id=0, limit=2**31)
    return interactions_service.interactions_with_text(session, after_id=0, limit=2**31)


def backfill_batches(session: Session, *, sources: Sequence[str] = SOURCES) -> list[tuple[str, list[int]]]:
    """The work of a backfill: every stored text's source, in batches."""
    batches = []
    for source in sources:
        ids = stored_text_ids(session, source)
        batches += [(source, ids[start : start + BATCH]) for start in range(0, len(ids), BATCH)]
    return batches
