"""What crosses the API about interactions and orders."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import AwareDatetime, ConfigDict, Field, field_validator, model_validator

from cxm.core.schemas import ReadModel, Schema
from cxm.customers.schemas import Identified
from cxm.interactions.models import Channel, Direction, JourneyStage

Text = Field(default=None, max_length=200)


class InteractionIn(Identified):
    """One touchpoint sent by a channel; `event_id` makes re-sending it harmless."""

    # Enums arrive validated and are kept as their plain values, ready for the bulk insert.
    model_config = ConfigDict(use_enum_values=True)

    event_id: str | None = Field(default=None, min_length=1, max_length=200)
    channel: Channel
    journey_stage: JourneyStage | None = None
    direction: Direction = Direction.inbound
    type: str = Field(min_length=1, max_length=100)
    occurred_at: AwareDatetime
    text: str | None = Field(default=None, max_length=20_000)
    agent: str | None = Text
    store: str | None = Text
    value: Decimal | None = Field(default=None, max_digits=14, decimal_places=2)
    responded_at: AwareDatetime | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _response_after_question(self) -> InteractionIn:
        if self.responded_at is not None and self.responded_at < self.occurred_at:
            raise ValueError("responded_at is before occurred_at")
        return self


class InteractionBatch(Schema):
    """Up to 10,000 interactions, stored all or nothing."""

    interactions: list[InteractionIn] = Field(min_length=1, max_length=10_000)


class InteractionRead(ReadModel):
    """A stored interaction."""

    id: int
    event_id: str | None
    customer_id: int
    channel: str
    journey_stage: str | None
    direction: str
    type: str
    occurred_at: datetime
    text: str | None
    agent: str | None
    store: str | None
    value: Decimal | None
    responded_at: datetime | None
    attributes: dict[str, Any]


class Stored(ReadModel):
    """Where a single ingested record landed; `duplicate` when it had been sent before."""

    id: int
    customer_id: int
    duplicate: bool


class OrderItemIn(Schema):
    """One product line."""

    product_id: str = Field(min_length=1, max_length=200)
    quantity: int = Field(ge=1, le=1_000_000)
    unit_price: Decimal | None = Field(default=None, max_digits=14, decimal_places=2)


class OrderIn(Identified):
    """A purchase; `order_id` is the client's own id and makes re-sending harmless."""

    order_id: str = Field(min_length=1, max_length=200)
    occurred_at: AwareDatetime
    amount: Decimal = Field(max_digits=14, decimal_places=2)
    currency: str = Field(pattern=r"^[A-Za-z]{3}$")
    channel: Channel | None = None
    items: list[OrderItemIn] = Field(default_factory=list, max_length=1000)
    attributes: dict[str, Any] = Field(default_factory=dict)

    @field_validator("currency")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()


class OrderBatch(Schema):
    """Up to 10,000 orders, stored all or nothing."""

    orders: list[OrderIn] = Field(min_length=1, max_length=10_000)


class OrderItemRead(ReadModel):
    """A stored product line."""

    product_id: str
    quantity: int
    unit_price: Decimal | None


class OrderRead(ReadModel):
    """A stored order with its items."""

    id: int
    order_id: str
    customer_id: int
    occurred_at: datetime
    amount: Decimal
    currency: str
    channel: str | None
    items: list[OrderItemRead]
    attributes: dict[str, Any]
