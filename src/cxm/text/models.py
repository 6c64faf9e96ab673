"""Sentiment model versions trained on the company's own rated comments."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from cxm.core.db import Base, UTCDateTime, utcnow


class TextModel(Base):
    """One training run: its hold-out figures against the engine it competed with; the adopted one is active."""

    __tablename__ = "text_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default="char")
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    train_size: Mapped[int] = mapped_column(Integer)
    test_size: Mapped[int] = mapped_column(Integer)
    accuracy: Mapped[float] = mapped_column(Float)
    macro_f1: Mapped[float] = mapped_column(Float)
    # The figures of the engine in use before this run, on the same hold-out.
    baseline_accuracy: Mapped[float] = mapped_column(Float)
    baseline_macro_f1: Mapped[float] = mapped_column(Float)
    # Comments completed up to this time were used for training; later ones were the hold-out.
    trained_until: Mapped[datetime] = mapped_column(UTCDateTime)
    # The model (.npz, no pickle); kept only for adopted models.
    data: Mapped[bytes | None] = mapped_column(LargeBinary)
