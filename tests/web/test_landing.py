"""The landing page and the API documentation pages."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cxm.customers import service as customers_service
from cxm.interactions import service as interactions_service


def touchpoint(n: int, channel: str, stage: str | None) -> dict[str, Any]:
    """A valid interaction of customer n in a channel and journey stage."""
    body: dict[str, Any] = {
        "event_id": f"e-{n}-{channel}-{stage}",
        "identities": {"email": f"c{n}@example.com"},
        "channel": channel,
        "type": "visit",
        "occurred_at": "2026-03-01T10:00:00+01:00",
    }
    return body | ({"journey_stage": stage} if stage else {})


def cells(page: str, label: str) -> list[str]:
    """The cells of the table row headed `label`, in order."""
    row = re.search(rf'<tr><th scope="row">{re.escape(label)}</th>(.*?)</tr>', page, re.S)
    assert row, f"no row {label!r}"
    return re.findall(r"<td>([^<]*)</td>", row.group(1))


def test_landing_counts_by_channel_and_stage(client: TestClient, admin_headers: dict[str, str]) -> None:
    items = [touchpoint(n, "web", "awareness") for n in range(3)]
    items += [touchpoint(n, "store", "purchase") for n in range(2)]
    items += [touchpoint(0, "phone", "post_purchase"), touchpoint(1, "phone", None)]
    stored = client.post("/api/v1/interactions/batch", json={"interactions": items}, headers=admin_headers)
    assert stored.status_code == 200, stored.text

    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    # columns: awareness, purchase, post_purchase, no stage, total
    assert cells(html, "web") == ["3", "0", "0", "0", "3"]
    assert cells(html, "store") == ["0", "2", "0", "0", "2"]
    assert cells(html, "phone") == ["0", "0", "1", "1", "2"]
    assert cells(html, "Total") == ["3", "2", "1", "1", "7"]
    assert re.search(r"7<span>interactions</span>", html) and re.search(r"3<span>customers</span>", html)
    assert 'href="/docs"' in html


def test_landing_without_data_says_where_to_start(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert "No interactions yet" in page.text and 'href="/docs"' in page.text


def test_text_from_data_is_escaped(session: Session, client: TestClient) -> None:
    # The API only accepts known channels, so this value stands for a row written by other means.
    hostile = '<i>"x"&</i>'
    [customer] = customers_service.resolve(
        session, [customers_service.Claim(keys=(("email", "x@example.com"),))], actor="test"
    )
    record = interactions_service.Incoming(
        values={
            "channel": hostile,
            "journey_stage": "awareness",
            "direction": "inbound",
            "type": "visit",
            "occurred_at": datetime(2026, 3, 1, tzinfo=UTC),
            "attributes": {},
        },
        keys=(),
        customer_id=customer,
    )
    interactions_service.store_interactions(session, [record], actor="test")
    session.commit()
    html = client.get("/").text
    assert hostile not in html
    assert "&lt;i&gt;&#34;x&#34;&amp;&lt;/i&gt;" in html


def test_api_docs_and_schema_load(client: TestClient) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    schema = client.get("/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/api/v1/customers", "/api/v1/interactions", "/api/v1/orders"} <= set(paths)
    assert client.get("/healthz").json() == {"status": "ok"}
