"""Pydantic base classes shared by every domain."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict

T = TypeVar("T")


class Schema(BaseModel):
    """Base for request and response bodies: strict about unknown fields."""

    model_config = ConfigDict(extra="forbid", from_attributes=True)


class Page(BaseModel, Generic[T]):
    """One page of a longer list."""

    items: list[T]
    total: int
    limit: int
    offset: int


class BatchResult(BaseModel):
    """What a batch ingest stored."""

    accepted: int
    duplicates: int


class ReadModel(BaseModel):
    """Base for response bodies: built from rows, ignoring columns it does not show."""

    model_config = ConfigDict(from_attributes=True)
