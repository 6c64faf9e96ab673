"""Sentiment model versions trained on the company's own rated comments, and the signals found in texts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, Float, ForeignKey, Index, Integer, LargeBinary, String
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


# Erasure deletes these rows outright (they are derived from the person's own words), instead of blanking columns.
ERASE_ROWS = {"erasure": "delete"}


class TextSignal(Base):
    """One thing analysis found in one text: its language, its sentiment or one of its themes.

    Tied to the text's source (a response's comment or an interaction) and to the customer, so merges move it and
    erasure deletes it. No words of the text are copied here: only the text's hash (the cache key), codes and scores.
    """

    __tablename__ = "text_signals"
    __table_args__ = (Index("ix_text_signals_source", "source", "source_id"), {"info": ERASE_ROWS})

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # language | sentiment | theme
    label: Mapped[str] = mapped_column(String(40))  # language code, sentiment label, theme id
    value: Mapped[float | None] = mapped_column(Float)  # sentiment score, theme weight
    theme_id: Mapped[int | None] = mapped_column(Integer, index=True)
    source: Mapped[str] = mapped_column(String(20))  # response | interaction
    source_id: Mapped[int] = mapped_column(BigInteger)
    question_id: Mapped[int | None] = mapped_column(Integer)  # the text question, for a response's comment
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    text_hash: Mapped[str] = mapped_column(String(64), index=True)
    model: Mapped[str] = mapped_column(String(40))  # what produced it: engine and model version, or `correction`
    written_at: Mapped[datetime] = mapped_column(UTCDateTime)  # when the customer wrote the text
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ThemeModel(Base):
    """One fit of the company's themes (NMF over TF-IDF); the active one assigns themes to new texts."""

    __tablename__ = "text_theme_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    texts: Mapped[int] = mapped_column(Integer)
    # Vocabulary, idf and one component row per theme (.npz, no pickle); edited by merges and splits.
    data: Mapped[bytes] = mapped_column(LargeBinary)


class TextTheme(Base):
    """One theme of a theme model: a readable name (its top terms until an analyst renames it)."""

    __tablename__ = "text_themes"

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("text_theme_models.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    terms: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TextCorrection(Base):
    """An analyst's sentiment label for one text: it overrides the engine and trains the next model."""

    __tablename__ = "text_corrections"
    __table_args__ = (Index("ix_text_corrections_source", "source", "source_id"), {"info": ERASE_ROWS})

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    source_id: Mapped[int] = mapped_column(BigInteger)
    question_id: Mapped[int | None] = mapped_column(Integer)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    text_hash: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(10))
    actor: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
