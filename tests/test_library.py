"""The Python library: `cxm.connect()` gives the hub's operations from a notebook."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

import cxm
from cxm.core.errors import InvalidInput


def test_public_api() -> None:
    assert sorted(cxm.__all__) == ["Hub", "__version__", "connect"]


def test_connect_ingest_lookup_timeline(db: Engine, database_url: str) -> None:
    hub = cxm.connect(database_url)
    try:
        result = hub.ingest_interactions(
            [
                {
                    "event_id": "w1",
                    "identities": {"web_cookie": "c-1"},
                    "channel": "web",
                    "type": "page_view",
                    "occurred_at": "2026-02-01T10:00:00+00:00",
                },
                {
                    "event_id": "w2",
                    "identities": {"web_cookie": "c-1", "email": "Petra@Example.cz"},
                    "channel": "web",
                    "type": "signup",
                    "occurred_at": "2026-02-01T10:05:00+00:00",
                },
            ]
        )
        assert (result.accepted, result.duplicates) == (2, 0)
        assert result.customer_ids[0] == result.customer_ids[1]
        customer = hub.customer("email:petra@example.cz")
        frame = hub.timeline(customer.id)
        assert list(frame["kind"]) == ["interaction", "interaction"]
        assert frame["occurred_at"].is_monotonic_decreasing
        assert list(hub.search("petra")["id"]) == [customer.id]
    finally:
        hub.close()


def test_library_batch_errors_name_the_item(db: Engine, database_url: str) -> None:
    hub = cxm.connect(database_url)
    try:
        good = {"identities": {"email": "a@b.cz"}, "channel": "app", "type": "open", "occurred_at": "2026-02-01T10:00Z"}
        with pytest.raises(InvalidInput) as error:
            hub.ingest_interactions([good, {**good, "occurred_at": "yesterday"}])
        assert error.value.details[0]["index"] == 1
        assert hub.search().empty
    finally:
        hub.close()
