"""File imports (CSV, JSON Lines, Parquet) on SQLite and PostgreSQL, and `cxm import` end to end."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cxm.core.errors import InvalidInput
from cxm.customers import service as customers_service
from cxm.customers.models import Customer
from cxm.interactions import service as interactions_service
from cxm.interactions.importers import import_file, parse_mapping
from cxm.interactions.models import Interaction, Order, OrderItem

CXM = str(Path(sys.executable).with_name("cxm"))


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    """Write rows (same keys) as a CSV file with a header."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(dict.fromkeys(k for row in rows for k in row)))
        writer.writeheader()
        writer.writerows(rows)
    return path


def visit(email: str, **extra: Any) -> dict[str, Any]:
    """A CSV row of a web visit."""
    return {"email": email, "channel": "web", "type": "visit", "occurred_at": "2026-03-01T10:00:00+01:00", **extra}


def count(session: Session, model: Any) -> int:
    """Rows in a table."""
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_csv_rows_land_on_customers_with_attributes(session: Session, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "events.csv",
        [
            visit("Ann@Example.com", **{"attr.page": "/home"}),
            visit("ann@example.com", **{"attr.page": "", "store": "Brno"}),
        ],
    )
    summary = import_file(session, "interactions", path, actor="test")
    assert (summary.imported, summary.duplicates, summary.rejected) == (2, 0, 0)
    ann = customers_service.find_by_identity(session, "email:ann@example.com")
    stored = session.scalars(select(Interaction).order_by(Interaction.id)).all()
    assert [s.customer_id for s in stored] == [ann.id, ann.id]
    assert [s.attributes for s in stored] == [{"page": "/home"}, {}]
    assert [s.store for s in stored] == [None, "Brno"]
    assert stored[0].occurred_at.isoformat() == "2026-03-01T09:00:00+00:00"
    assert not (tmp_path / "events.csv.rejected.csv").exists()


def test_jsonl_nested_identities_and_attributes(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    line = {
        "event_id": "e-1",
        "identities": {"email": "bob@example.com", "phone": "+420 777 123 456"},
        "channel": "phone",
        "type": "question",
        "direction": "inbound",
        "occurred_at": "2026-03-01T10:00:00Z",
        "responded_at": "2026-03-01T10:05:00Z",
        "attributes": {"queue": "billing"},
    }
    path.write_text(json.dumps(line) + "\n")
    assert import_file(session, "interactions", path, actor="test").imported == 1
    stored = interactions_service.find_interaction(session, event_id="e-1")
    assert stored is not None and stored.attributes == {"queue": "billing"}
    owner = customers_service.find_by_identity(session, "phone:+420777123456")
    assert owner.id == stored.customer_id


def test_parquet_typed_columns_and_naive_timestamps_rejected(session: Session, tmp_path: Path) -> None:
    aware = pa.array([1_772_355_600_000_000] * 2, pa.timestamp("us", tz="UTC"))
    table = pa.table({"external_id": ["00123", "00124"], "channel": ["store", "store"], "type": ["purchase"] * 2})
    pq.write_table(table.append_column("occurred_at", aware), tmp_path / "ok.parquet")
    pq.write_table(table.append_column("occurred_at", aware.cast(pa.timestamp("us"))), tmp_path / "naive.parquet")
    assert import_file(session, "interactions", tmp_path / "ok.parquet", actor="test").imported == 2
    assert customers_service.find_by_identity(session, "external_id:00123")
    naive = import_file(session, "interactions", tmp_path / "naive.parquet", actor="test")
    assert (naive.imported, naive.rejected) == (0, 2)
    assert "no time zone" in (tmp_path / "naive.parquet.rejected.csv").read_text()


def test_mapping_fills_fields_from_other_columns(session: Session, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "export.csv", [{"mail": "cy@example.com", "when": "2026-01-02T03:04:05Z", "kind": "x"}])
    mapping = parse_mapping(["email=mail", "occurred_at=when", "type=kind", "channel=kind"])
    with pytest.raises(InvalidInput, match="nowhere"):
        import_file(session, "interactions", path, mapping={"channel": "nowhere"}, actor="test")
    summary = import_file(session, "interactions", path, mapping=mapping, actor="test")
    assert summary.rejected == 1  # channel 'x' is not a channel: proves the mapped column was read
    fixed = write_csv(
        tmp_path / "fixed.csv", [{"mail": "cy@example.com", "when": "2026-01-02T03:04:05Z", "kind": "chat"}]
    )
    assert import_file(session, "interactions", fixed, mapping=mapping, actor="test").imported == 1
    assert session.scalars(select(Interaction.type)).all() == ["chat"]


def test_parse_mapping_rejects_a_pair_without_equals() -> None:
    assert parse_mapping([" email = mail "]) == {"email": "mail"}
    with pytest.raises(InvalidInput, match="field=column"):
        parse_mapping(["email"])


def test_bad_rows_are_listed_and_not_stored(session: Session, tmp_path: Path) -> None:
    rows = [
        visit("ok@example.com"),
        visit("not-an-email"),
        visit("late@example.com", occurred_at="2026-03-01 10:00:00"),
        visit("fax@example.com", channel="fax"),
        visit("", type="visit"),
        visit("ok2@example.com"),
    ]
    rejected = tmp_path / "bad.csv"
    summary = import_file(
        session, "interactions", write_csv(tmp_path / "in.csv", rows), rejected_path=rejected, actor="t"
    )
    assert (summary.imported, summary.rejected, summary.rejected_path) == (2, 4, rejected)
    listed = list(csv.DictReader(rejected.open()))
    assert [r["row"] for r in listed] == ["2", "3", "4", "5"]
    assert "e-mail" in listed[0]["reason"] and "time zone" in listed[1]["reason"]
    assert "fax" in listed[2]["reason"] and "no identity" in listed[3]["reason"]
    assert listed[2]["email"] == "fax@example.com"
    assert count(session, Interaction) == 2 and count(session, Customer) == 2


def test_importing_the_same_file_twice_stores_nothing_new(session: Session, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "events.csv", [visit("a@example.com"), visit("b@example.com", text="hi")])
    first = import_file(session, "interactions", path, actor="test")
    again = import_file(session, "interactions", path, actor="test")
    assert (first.imported, first.duplicates) == (2, 0)
    assert (again.imported, again.duplicates) == (0, 2)
    assert count(session, Interaction) == 2
    assert "0 interactions imported, 2 duplicates" in again.describe()


def test_orders_with_items(session: Session, tmp_path: Path) -> None:
    items = json.dumps(
        [{"product_id": "sku-1", "quantity": 2, "unit_price": "9.90"}, {"product_id": "sku-2", "quantity": 1}]
    )
    rows = [
        {
            "order_id": "o-1",
            "email": "d@example.com",
            "occurred_at": "2026-02-01T12:00:00Z",
            "amount": "29.80",
            "currency": "eur",
            "items": items,
        },
        {
            "order_id": "o-2",
            "email": "d@example.com",
            "occurred_at": "2026-02-01T12:00:00Z",
            "amount": "1.234",
            "currency": "EUR",
            "items": "",
        },
    ]
    path = write_csv(tmp_path / "orders.csv", rows)
    summary = import_file(session, "orders", path, actor="test")
    assert (summary.imported, summary.rejected) == (1, 1)
    order = session.scalars(select(Order)).one()
    assert (order.amount, order.currency) == (Decimal("29.80"), "EUR")
    read = interactions_service.get_order(session, order.id)
    assert [(i.product_id, i.quantity) for i in read.items] == [("sku-1", 2), ("sku-2", 1)]
    assert import_file(session, "orders", path, actor="test").duplicates == 1
    assert count(session, OrderItem) == 2


def test_customers_file_upserts_by_identity(session: Session, tmp_path: Path) -> None:
    first = [{"email": "eva@example.com", "phone": "777 123 456", "name": "Eva", "country": "cz", "attr.tier": "gold"}]
    import_file(session, "customers", write_csv(tmp_path / "c1.csv", first), actor="test")
    second = [{"phone": "+420777123456", "name": "Eva Nová", "country": "", "attr.tier": ""}]
    summary = import_file(session, "customers", write_csv(tmp_path / "c2.csv", second), actor="test")
    assert summary.imported == 1 and "customers upserted" in summary.describe()
    eva = customers_service.find_by_identity(session, "email:eva@example.com")
    assert (eva.name, eva.country, eva.attributes) == ("Eva Nová", "CZ", {"tier": "gold"})
    assert customers_service.count_customers(session) == 1


def test_unknown_format_and_kind_are_refused(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "events.xlsx"
    path.write_text("x")
    with pytest.raises(InvalidInput, match="unknown file format"):
        import_file(session, "interactions", path, actor="test")
    with pytest.raises(InvalidInput, match="unknown import kind"):
        import_file(session, "surveys", path, file_format="csv", actor="test")


def cxm(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the `cxm` command line."""
    return subprocess.run([CXM, *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def test_cli_imports_a_file_and_reports(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "events.csv", [visit("f@example.com"), visit("bad")])
    url = f"sqlite:///{tmp_path / 'x.db'}"
    done = cxm("--database-url", url, "import", "interactions", str(path), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "1 interactions imported" in done.stdout and "1 rejected" in done.stdout
    again = cxm("--database-url", url, "import", "interactions", str(path), cwd=tmp_path)
    assert "0 interactions imported, 1 duplicates skipped" in again.stdout


def test_cli_refuses_unknown_format_and_missing_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    odd = tmp_path / "events.txt"
    odd.write_text("email\n")
    done = cxm("--database-url", url, "import", "interactions", str(odd), cwd=tmp_path)
    assert done.returncode == 1
    reason = done.stderr[done.stderr.index("error:") :].strip()
    assert reason == f"error: unknown file format '.txt' for events.txt: {USE_FORMAT}"
    missing = cxm("--database-url", url, "import", "interactions", str(tmp_path / "nope.csv"), cwd=tmp_path)
    assert missing.returncode == 1
    assert missing.stderr.strip() == f"error: no such file: {tmp_path / 'nope.csv'}"


USE_FORMAT = "use --format csv, jsonl or parquet"


def test_rows_naming_an_unknown_customer_are_rejected_not_fatal(session: Session, tmp_path: Path) -> None:
    known = import_file(session, "interactions", write_csv(tmp_path / "a.csv", [visit("ann@example.com")]), actor="t")
    assert known.imported == 1
    ann = customers_service.find_by_identity(session, "email:ann@example.com")
    rows = [
        {"customer_id": ann.id, "channel": "store", "type": "visit", "occurred_at": "2026-03-02T10:00:00Z"},
        {"customer_id": ann.id + 1000, "channel": "store", "type": "visit", "occurred_at": "2026-03-02T11:00:00Z"},
    ]
    summary = import_file(session, "interactions", write_csv(tmp_path / "b.csv", rows), actor="t")
    assert (summary.imported, summary.rejected) == (1, 1)
    rejected = (tmp_path / "b.csv.rejected.csv").read_text(encoding="utf-8")
    assert f"no customer {ann.id + 1000}" in rejected


def test_csv_is_streamed_in_batches_with_progress(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cxm.interactions import importers

    monkeypatch.setattr(importers, "BATCH_ROWS", 3)
    path = write_csv(tmp_path / "many.csv", [visit(f"p{i}@example.com", event_id=f"e{i}") for i in range(10)])
    calls: list[tuple[int, int]] = []
    summary = import_file(session, "interactions", path, actor="t", progress=lambda d, t: calls.append((d, t)))
    assert summary.imported == 10
    assert calls == [(3, 10), (6, 10), (9, 10), (10, 10)]


def test_a_malformed_csv_line_stops_the_import_with_a_reason(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "broken.csv"
    path.write_text("email,channel,type,occurred_at\na@b.cz,web,visit,2026-01-01T00:00:00Z\nx,y\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="cannot read"):
        import_file(session, "interactions", path, actor="t")


def test_customer_files_carry_consent_columns(session: Session, tmp_path: Path) -> None:
    rows = [
        {"email": "ana@example.ro", "name": "Ana", "consent.surveys": "yes", "consent.marketing_email": "no"},
        {"email": "ion@example.ro", "name": "Ion", "consent.surveys": "maybe", "consent.marketing_email": ""},
        {"email": "eva@example.ro", "name": "Eva", "consent.surveys": "", "consent.marketing_email": "1"},
    ]
    summary = import_file(session, "customers", write_csv(tmp_path / "people.csv", rows), actor="t")
    assert (summary.imported, summary.rejected, summary.ignored_columns) == (2, 1, [])
    ana = customers_service.find_by_identity(session, "email:ana@example.ro").id
    eva = customers_service.find_by_identity(session, "email:eva@example.ro").id
    assert customers_service.has_consent(session, ana, "surveys")
    assert not customers_service.has_consent(session, ana, "marketing_email")
    assert customers_service.has_consent(session, eva, "marketing_email")
    assert customers_service.consent_state(session, eva).keys() == {"marketing_email"}
    assert "consents.0.granted" in (tmp_path / "people.csv.rejected.csv").read_text(encoding="utf-8")


def import_in_batches(
    session: Session, path: Path, rows: list[dict[str, Any]], size: int, monkeypatch: pytest.MonkeyPatch
) -> tuple[Any, dict[str, int]]:
    """Import rows as a CSV file in batches of `size`; the summary and each event's owner."""
    from cxm.interactions import importers

    monkeypatch.setattr(importers, "BATCH_ROWS", size)
    summary = import_file(session, "interactions", write_csv(path, rows), actor="t")
    owners = {event: owner for event, owner in session.execute(select(Interaction.event_id, Interaction.customer_id))}
    return summary, owners


def test_batches_of_one_import_follow_merges_made_by_earlier_batches(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    phone = "+420777123456"
    rows = [
        visit("a@example.com", event_id="1"),
        visit("b@example.com", event_id="2", phone=phone),
        visit("a@example.com", event_id="3", phone=phone),  # links a and b: merged in the second batch
        visit("c@example.com", event_id="4"),
        visit("b@example.com", event_id="5"),  # b's e-mail now belongs to the survivor
        visit("a@example.com", event_id="6"),
    ]
    summary, owners = import_in_batches(session, tmp_path / "linked.csv", rows, 2, monkeypatch)
    assert (summary.imported, summary.rejected) == (6, 0)
    survivor = customers_service.find_by_identity(session, "email:b@example.com").id
    assert customers_service.find_by_identity(session, "email:a@example.com").id == survivor
    assert {owners[e] for e in ("1", "2", "3", "5", "6")} == {survivor} and owners["4"] != survivor
    assert customers_service.count_customers(session) == 2


def test_text_with_copy_special_characters_is_stored_as_written(session: Session, tmp_path: Path) -> None:
    written = ["tab\there", "line\nbreak\r\n", "back\\slash", "\\N", ""]
    rows = [visit(f"t{i}@example.com", event_id=f"s{i}", text=value) for i, value in enumerate(written)]
    assert import_file(session, "interactions", write_csv(tmp_path / "special.csv", rows), actor="t").imported == 5
    stored = dict(session.execute(select(Interaction.event_id, Interaction.text)).all())
    assert [stored[f"s{i}"] for i in range(5)] == [*written[:4], None]  # an empty cell is a missing value


def test_rows_whose_identities_were_resolved_in_an_earlier_batch_follow_a_later_merge(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    phone = "+420777123456"
    rows = [
        visit("a@example.com", event_id="1"),
        visit("b@example.com", event_id="2", phone=phone),
        visit("c@example.com", event_id="3"),
        visit("a@example.com", event_id="4", phone=phone),  # links a and b
        visit("b@example.com", event_id="5", phone=phone),  # the same cells as row 2: owner known from batch 1
        visit("c@example.com", event_id="6"),
        visit("B@Example.com ", event_id="7", phone=" 00420777123456"),  # the same identities, written otherwise
    ]
    summary, owners = import_in_batches(session, tmp_path / "linked.csv", rows, 3, monkeypatch)
    assert (summary.imported, summary.rejected) == (7, 0)
    survivor = customers_service.find_by_identity(session, "email:a@example.com").id
    assert customers_service.find_by_identity(session, "email:b@example.com").id == survivor
    assert {owners[e] for e in ("1", "2", "4", "5", "7")} == {survivor}
    assert owners["3"] == owners["6"] != survivor
