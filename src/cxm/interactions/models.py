"""Interaction, order and order item tables."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cxm.core.db import Base, BigId, JSONDict, UTCDateTime, utcnow

PERSONAL = {"personal": True}


class Channel(enum.StrEnum):
    """Where an interaction happened."""

    store = "store"
    web = "web"
    app = "app"
    email = "email"
    phone = "phone"
    chat = "chat"
    social = "social"
    other = "other"


class JourneyStage(enum.StrEnum):
    """Information search, purchase, or service after it."""

    awareness = "awareness"
    purchase = "purchase"
    post_purchase = "post_purchase"


class Direction(enum.StrEnum):
    """Who started the interaction."""

    inbound = "inbound"
    outbound = "outbound"


class Interaction(Base):
    """One event in one channel at one time, on one customer."""

    __tablename__ = "interactions"
    __table_args__ = (Index("ix_interactions_customer_time", "customer_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    channel: Mapped[str] = mapped_column(String(20))
    journey_stage: Mapped[str | None] = mapped_column(String(20))
    direction: Mapped[str] = mapped_column(String(10))
    type: Mapped[str] = mapped_column(String(100))
    # No index of its own: time-range reads are the analytics store's job; the timeline uses
    # (customer_id, occurred_at), and every extra index slows bulk ingest.
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    text: Mapped[str | None] = mapped_column(Text, info=PERSONAL)
    agent: Mapped[str | None] = mapped_column(String(200))
    # The shop, branch or site where it happened (a store's code or name): a dimension of every figure.
    store: Mapped[str | None] = mapped_column(String(200))
    value: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONDict, default=dict, info=PERSONAL)
    ingested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Order(Base):
    """A purchase: value, currency and items; `order_id` is the client's own id."""

    __tablename__ = "orders"
    __table_args__ = (Index("ix_orders_customer_time", "customer_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[str] = mapped_column(String(200), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    currency: Mapped[str] = mapped_column(String(3))
    channel: Mapped[str | None] = mapped_column(String(20))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONDict, default=dict, info=PERSONAL)
    ingested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OrderItem(Base):
    """One product line of an order."""

    __tablename__ = "order_items"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_ref: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int]
    unit_price: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
