"""What crosses the API about customers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field, field_validator, model_validator

from cxm.core.errors import CxmError
from cxm.core.schemas import ReadModel, Schema
from cxm.customers.identities import normalise_all
from cxm.customers.privacy import Purpose

LANGUAGE = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"


def normalised_identities(identities: dict[str, str], region: str | None = None) -> dict[str, str]:
    """Validate and normalise identities, turning cxm errors into validation errors."""
    try:
        return dict(normalise_all(identities, region=region))
    except CxmError as error:
        raise ValueError(error.message) from None


class Identified(Schema):
    """A record that says whom it concerns: a known customer id or identities."""

    customer_id: int | None = None
    identities: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _identify(self) -> Identified:
        if not self.identities and self.customer_id is None:
            raise ValueError('give identities (e.g. {"email": ...}) or a customer_id')
        self.identities = normalised_identities(self.identities)
        return self


class ConsentIn(Schema):
    """A consent decision sent by a client."""

    purpose: Purpose
    granted: bool
    source: str = Field(default="api", max_length=200)
    at: datetime | None = None


class CustomerUpsert(Schema):
    """Create or update a customer found by its identities."""

    identities: dict[str, str] = Field(min_length=1)
    name: str | None = Field(default=None, max_length=300)
    language: str | None = Field(default=None, pattern=LANGUAGE)
    country: str | None = Field(default=None, pattern=r"^[A-Za-z]{2}$")
    segment: str | None = Field(default=None, max_length=100)
    attributes: dict[str, Any] = Field(default_factory=dict)
    consents: list[ConsentIn] = Field(default_factory=list)

    @field_validator("country")
    @classmethod
    def _upper(cls, value: str | None) -> str | None:
        return value.upper() if value else value

    @model_validator(mode="after")
    def _normalise(self) -> CustomerUpsert:
        self.identities = normalised_identities(self.identities, self.country)
        return self

    def traits(self) -> dict[str, Any]:
        """The traits this upsert sets (fields left out are kept)."""
        return self.model_dump(include={"name", "language", "country", "segment", "attributes"}, exclude_unset=True)


class CustomerBatch(Schema):
    """Up to 10,000 customer upserts, stored all or nothing."""

    customers: list[CustomerUpsert] = Field(min_length=1, max_length=10_000)


class IdentityRead(ReadModel):
    """One identity of a customer."""

    kind: str
    value: str


class ConsentRead(ReadModel):
    """The decision in force for one purpose."""

    purpose: str
    granted: bool
    source: str
    recorded_at: datetime


class MergeRead(ReadModel):
    """A recorded merge."""

    id: int
    survivor_id: int
    merged_id: int
    actor: str
    reason: str
    created_at: datetime
    undone_at: datetime | None
    undone_by: str | None


class CustomerSummary(ReadModel):
    """A customer in a list."""

    id: int
    name: str | None
    language: str | None
    country: str | None
    segment: str | None
    identities: list[IdentityRead]


class CustomerRead(CustomerSummary):
    """A customer with everything on the profile."""

    attributes: dict[str, Any]
    consents: list[ConsentRead]
    merges: list[MergeRead]
    merged_into_id: int | None
    created_at: datetime
    updated_at: datetime
    erased_at: datetime | None


class MergeRequest(Schema):
    """Merge another profile into this one."""

    other_id: int
    reason: str = Field(default="manual merge", max_length=1000)


class ConsentChange(ConsentIn):
    """A consent decision for a known customer."""


class TimelineEntryRead(ReadModel):
    """One entry of a customer's timeline."""

    kind: str
    id: int
    occurred_at: datetime
    channel: str | None
    summary: str
    data: dict[str, Any]


class TimelinePage(ReadModel):
    """One page of a timeline, newest first; `has_more` when older entries follow."""

    items: list[TimelineEntryRead]
    limit: int
    offset: int
    has_more: bool
