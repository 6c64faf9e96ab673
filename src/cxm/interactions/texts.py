"""Interaction texts (e-mails, chats, social posts) for text analysis, queued as they are stored."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import select
from sqlalchemy.orm import Session

from cxm.core import jobs
from cxm.interactions.models import Interaction

# The text domain runs these jobs (registered by name: interactions does not import text).
ANALYZE_JOB = "text.analyze"


@dataclass(frozen=True)
class InteractionText:
    """One interaction text to analyse: which interaction, whose, when, in which channel."""

    interaction_id: int
    customer_id: int
    text: str
    written_at: datetime
    channel: str


def interaction_texts(session: Session, interaction_ids: Sequence[int]) -> list[InteractionText]:
    """The non-empty texts of these interactions."""
    query = (
        select(Interaction.id, Interaction.customer_id, Interaction.text, Interaction.occurred_at, Interaction.channel)
        .where(Interaction.id.in_(list(interaction_ids)), Interaction.text.is_not(None), Interaction.text != "")
        .order_by(Interaction.id)
    )
    return [InteractionText(i, c, str(t), at, ch) for i, c, t, at, ch in session.execute(query)]


def interactions_with_text(session: Session, *, after_id: int, limit: int) -> list[int]:
    """Ids of interactions with a non-empty text, above `after_id`, ascending (for a backfill)."""
    query = (
        select(Interaction.id)
        .where(Interaction.id > after_id, Interaction.text.is_not(None), Interaction.text != "")
        .order_by(Interaction.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def queue_text_analysis(session: Session, ids: Sequence[int | None], texts: Any) -> int:
    """Queue analysis of the stored interactions that carry text (`texts`: a list or Arrow array); jobs queued."""
    wanted = [i for i, has in zip(ids, _has_text(texts), strict=True) if i is not None and has]
    return jobs.enqueue_batches(session, ANALYZE_JOB, wanted, payload={"source": "interaction"})


def _has_text(texts: Any) -> list[bool]:
    """Whether each value is a non-empty text (Arrow columns of an import are checked without Python strings)."""
    if isinstance(texts, pa.Array | pa.ChunkedArray):
        filled = pc.fill_null(pc.greater(pc.utf8_length(texts), 0), False)
        return [bool(v) for v in filled.to_numpy(zero_copy_only=False)]
    return [bool(t) for t in texts]
