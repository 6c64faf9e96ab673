"""Customer, identity, consent, merge and erasure tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cxm.core.db import Base, JSONDict, UTCDateTime, utcnow

# Columns marked personal are blanked by erasure in every table that has a customer_id.
PERSONAL = {"personal": True}


class Customer(Base):
    """One person or company with traits; merged-away profiles point at their survivor."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None] = mapped_column(String(300), info=PERSONAL)
    language: Mapped[str | None] = mapped_column(String(16), info=PERSONAL)
    country: Mapped[str | None] = mapped_column(String(2), info=PERSONAL)
    segment: Mapped[str | None] = mapped_column(String(100), index=True, info=PERSONAL)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONDict, default=dict, info=PERSONAL)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Indexed: the analytics sync's watermark and the worker's change check read the newest value often.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, index=True)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Identity(Base):
    """A normalised key (`email`, `phone`, ...) that points at exactly one customer."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("kind", "value", name="uq_identities_kind_value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(64))
    # Looked up only with its kind (the unique index); a second index on value alone only slowed imports.
    value: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Consent(Base):
    """One consent decision for a purpose; the latest per purpose is in force."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(40))
    granted: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Merge(Base):
    """A recorded merge of `merged_id` into `survivor_id`, with what moved, so it can be undone."""

    __tablename__ = "merges"
    __table_args__ = (Index("ix_merges_survivor_merged", "survivor_id", "merged_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survivor_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    merged_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    actor: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    moved: Mapped[dict[str, Any]] = mapped_column(JSONDict, default=dict)
    survivor_before: Mapped[dict[str, Any]] = mapped_column(JSONDict, default=dict, info=PERSONAL)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    undone_by: Mapped[str | None] = mapped_column(String(200))


class Tombstone(Base):
    """An erased customer id, so every derived store can forget the person too."""

    __tablename__ = "tombstones"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(index=True)
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    requested_by: Mapped[str] = mapped_column(String(200))
