"""Import customers, interactions and orders from CSV, JSON Lines or Parquet files.

Columns: identity columns (`email`, `phone`, `external_id`, `loyalty_card`, `web_cookie`,
`social:<network>`) say whom a row concerns; columns named like the API's fields fill those fields;
`attr.<name>` columns and an `attributes` JSON object column become free attributes; an order's `items`
column holds a JSON list of `{"product_id", "quantity", "unit_price"}`; a customer file's `consent.<purpose>`
columns (yes/no, true/false, 1/0) record consent decisions with source "import". Empty cells are missing values.
Timestamps must carry a time zone (`Z` or `+hh:mm`): a timestamp without one is ambiguous, so its row
is rejected, as the API does. Other columns are ignored (and named in the summary).

Bad rows are rejected into a CSV (row number counting data rows from 1, reason, original values); the
good rows are stored through the same bulk path as the API, in the caller's one transaction.
Re-importing a file stores nothing twice: interactions are keyed by `event_id`, or else by a hash of
their content (so identical rows count as one event), orders by `order_id`; customers are upserts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import ValidationError
from sqlalchemy.orm import Session

from cxm.core.bulk import Column
from cxm.core.copies import copies_in_background
from cxm.core.errors import InvalidInput
from cxm.customers import service as customers_service
from cxm.customers.schemas import CustomerUpsert
from cxm.interactions import columns as col
from cxm.interactions.ingest import IncomingBatch, store_interaction_batch, store_order_batch
from cxm.interactions.models import Channel, Direction, JourneyStage
from cxm.interactions.readers import RejectedRows, default_rejected_path, detect_format, open_source

KINDS = ("customers", "interactions", "orders")
CONSENT = "consent."
BATCH_ROWS = 10_000
FIELDS = {
    "interactions": {
        "customer_id",
        "event_id",
        "channel",
        "journey_stage",
        "direction",
        "type",
        "occurred_at",
        "text",
        "agent",
        "store",
        "value",
        "responded_at",
        "attributes",
    },
    "orders": {"customer_id", "order_id", "occurred_at", "amount", "currency", "channel", "items", "attributes"},
    "customers": {"name", "language", "country", "segment", "attributes"},
}
Progress = Callable[[int, int], None]
Key = customers_service.Key


@dataclass
class ImportSummary:
    """What an import did: rows stored, rows already there, rows rejected (and where they went)."""

    kind: str
    imported: int = 0
    duplicates: int = 0
    rejected: int = 0
    rejected_path: Path | None = None
    ignored_columns: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """One short human summary."""
        verb = "upserted" if self.kind == "customers" else "imported"
        text = f"{self.imported:,} {self.kind} {verb}, {self.duplicates:,} duplicates skipped"
        text += f", {self.rejected:,} rejected"
        if self.rejected_path is not None:
            text += f" (see {self.rejected_path})"
        if self.ignored_columns:
            text += f"; ignored columns: {', '.join(self.ignored_columns)}"
        return text


def parse_mapping(pairs: list[str]) -> dict[str, str]:
    """Read `field=column` pairs (a cxm field filled from a column of the file)."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        target, sep, column = pair.partition("=")
        if not sep or not target.strip() or not column.strip():
            raise InvalidInput(f"bad mapping '{pair}': write field=column, e.g. occurred_at=timestamp")
        mapping[target.strip()] = column.strip()
    return mapping


def import_file(
    session: Session,
    kind: str,
    path: Path,
    *,
    file_format: str | None = None,
    mapping: dict[str, str] | None = None,
    rejected_path: Path | None = None,
    progress: Progress | None = None,
    actor: str,
) -> ImportSummary:
    """Import a file of `kind` (customers | interactions | orders) in the session's transaction."""
    if kind not in KINDS:
        raise InvalidInput(f"unknown import kind '{kind}': use {', '.join(KINDS)}")
    source = open_source(path, detect_format(path, file_format), BATCH_ROWS)
    mapping = mapping or {}
    _check_mapping(mapping, source.columns)
    used = {*mapping, *mapping.values()}
    summary = ImportSummary(kind=kind, ignored_columns=_ignored(kind, [c for c in source.columns if c not in used]))
    checked = col.Checked()
    known = customers_service.KnownOwners()  # the import is one transaction: owners carry over between batches
    with RejectedRows(rejected_path or default_rejected_path(path)) as rejected, copies_in_background(session):
        done = 0
        for batch in source.batches:
            rows = col.Rows(_mapped(batch, mapping), checked)
            _import_batch(session, kind, rows, batch, rejected, summary, done, actor, known)
            done += batch.num_rows
            if progress is not None:
                progress(done, max(done, source.total))
    summary.rejected = rejected.count
    summary.rejected_path = rejected.path if rejected.count else None
    return summary


def _check_mapping(mapping: dict[str, str], columns: list[str]) -> None:
    missing = sorted(set(mapping.values()) - set(columns))
    if missing:
        raise InvalidInput(f"mapped column(s) not in the file: {', '.join(missing)}; it has: {', '.join(columns)}")


def _mapped(batch: pa.RecordBatch, mapping: dict[str, str]) -> pa.RecordBatch:
    """The batch with each mapped field filled from its column (one column may fill several fields)."""
    if not mapping:
        return batch
    columns = {name: batch.column(name) for name in batch.schema.names if name not in mapping}
    columns.update({target: batch.column(source) for target, source in mapping.items()})
    return pa.RecordBatch.from_arrays(list(columns.values()), names=list(columns))


def _ignored(kind: str, columns: list[str]) -> list[str]:
    known = FIELDS[kind]
    consent = kind == "customers"
    return [
        c
        for c in columns
        if c not in known
        and not col.is_identity(c)
        and not c.startswith("attr.")
        and not (consent and c.startswith(CONSENT))
    ]


def _import_batch(
    session: Session,
    kind: str,
    rows: col.Rows,
    batch: pa.RecordBatch,
    rejected: RejectedRows,
    summary: ImportSummary,
    offset: int,
    actor: str,
    known: customers_service.KnownOwners,
) -> None:
    if kind == "customers":
        upserts = _customer_upserts(rows)
        valid = [u for u in upserts if u is not None]
        customers_service.upsert_customers(session, valid, actor=actor)
        summary.imported += len(valid)
    else:
        if kind == "interactions":
            result = store_interaction_batch(session, _interaction_batch(session, rows), actor=actor, known=known)
        else:
            result = store_order_batch(session, _order_batch(session, rows), actor=actor, known=known)
        summary.imported += result.accepted
        summary.duplicates += result.duplicates
    _write_rejected(rows, batch, rejected, offset)


def _reject_unknown_customers(session: Session, rows: col.Rows, customer_ids: list[int | None]) -> None:
    """Reject (rather than fail the import on) rows naming a customer id that does not exist."""
    named = {c for c, reason in zip(customer_ids, rows.reasons, strict=True) if c is not None and reason is None}
    if not named:
        return
    known = customers_service.usable_customer_ids(session, named)
    for index, customer_id in enumerate(customer_ids):
        if customer_id is not None and customer_id not in known:
            rows.reject_row(index, f"customer_id: no customer {customer_id} (or it was erased)")


def _valid(rows: col.Rows, batch: IncomingBatch) -> IncomingBatch:
    """The batch without its rejected rows."""
    return batch.take([index for index, reason in enumerate(rows.reasons) if reason is None])


def _write_rejected(rows: col.Rows, batch: pa.RecordBatch, rejected: RejectedRows, offset: int) -> None:
    for index, reason in enumerate(rows.reasons):
        if reason is not None:
            rejected.write(offset + index + 1, reason, batch.slice(index, 1).to_pylist()[0])


def _owners(rows: col.Rows) -> tuple[customers_service.RecordKeys, list[int | None]]:
    """Each row's identities and explicit customer id; a row with neither is rejected."""
    keys = col.identity_keys(rows, required=False)
    customer_ids = col.integer(rows, "customer_id")
    without_keys = np.flatnonzero(keys.codes == keys.sets.code_of(())).tolist()
    for index in without_keys:
        if customer_ids[index] is None:
            rows.reject_row(index, "no identity (email, phone, external_id, ...) or customer_id given")
    return keys, customer_ids


def _interaction_batch(session: Session, rows: col.Rows) -> IncomingBatch:
    """The stored form of the batch's good rows, column by column (rejected rows get their reason)."""
    keys, customer_ids = _owners(rows)
    values = _interaction_values(rows)
    _check_response_times(rows, values["occurred_at"], values["responded_at"])
    _reject_unknown_customers(session, rows, customer_ids)
    values["event_id"] = _event_ids(rows, values, keys, customer_ids)
    return _valid(rows, IncomingBatch(values, keys, customer_ids, values["event_id"]))


def _interaction_values(rows: col.Rows) -> dict[str, Column]:
    # Text columns stay Arrow arrays: taken, checked and written to COPY without a Python string per cell.
    return {
        "event_id": col.text(rows, "event_id", max_length=200),
        "channel": _required_channel(rows),
        "journey_stage": col.choice_column(rows, "journey_stage", JourneyStage),
        "direction": col.choice_column(rows, "direction", Direction, default=Direction.inbound.value),
        "type": col.text_column(rows, "type", max_length=100, required=True),
        "occurred_at": col.timestamp_column(rows, "occurred_at", required=True),
        "text": col.text_column(rows, "text", max_length=20_000),
        "agent": col.text_column(rows, "agent", max_length=200),
        "store": col.text_column(rows, "store", max_length=200),
        "value": col.amount(rows, "value"),
        "responded_at": col.timestamp_column(rows, "responded_at"),
        "attributes": col.attributes(rows),
    }


def _check_response_times(rows: col.Rows, occurred: Column, responded: Column) -> None:
    reason = "responded_at is before occurred_at"
    if not isinstance(responded, pa.Array) and all(answer is None for answer in responded):
        return
    if isinstance(occurred, pa.Array) and isinstance(responded, pa.Array):
        rows.reject(pc.less(responded, occurred), lambda _: reason)
        return
    for index, (start, answer) in enumerate(zip(col.python(occurred), col.python(responded), strict=True)):
        if answer is not None and start is not None and answer < start:
            rows.reject_row(index, reason)


def _event_ids(
    rows: col.Rows, values: dict[str, Column], keys: Sequence[tuple[Key, ...]], customer_ids: list[int | None]
) -> list[str | None]:
    """The given event ids, and for good rows without one an id made from the row's content."""
    event_ids = list(values["event_id"])
    for index, (event_id, reason) in enumerate(zip(event_ids, rows.reasons, strict=True)):
        if event_id is None and reason is None:
            row = tuple(col.python_value(column, index) for column in values.values())
            event_ids[index] = _content_id(keys[index], customer_ids[index], row)
    return event_ids


def _required_channel(rows: col.Rows) -> Column:
    channels = col.choice_column(rows, "channel", Channel)
    missing = pc.is_null(channels) if isinstance(channels, pa.Array) else pa.array([c is None for c in channels])
    rows.reject(missing, lambda _: "channel: missing")
    return channels


def _content_id(keys: tuple[Key, ...], customer_id: int | None, row: tuple[Any, ...]) -> str:
    """A deterministic event id for a row without one: the same content always gets the same id."""
    canonical = orjson.dumps([keys, customer_id, row], default=str, option=orjson.OPT_SORT_KEYS)
    return "import:" + hashlib.sha1(canonical, usedforsecurity=False).hexdigest()


def _order_batch(session: Session, rows: col.Rows) -> IncomingBatch:
    """The stored form of the batch's good order rows, column by column."""
    keys, customer_ids = _owners(rows)
    values: dict[str, Column] = {
        "order_id": col.text(rows, "order_id", max_length=200, required=True),
        "occurred_at": col.timestamp_column(rows, "occurred_at", required=True),
        "amount": col.amount(rows, "amount", required=True),
        "currency": col.currency(rows, "currency"),
        "channel": col.choice(rows, "channel", Channel),
        "attributes": col.attributes(rows),
    }
    lines = col.items(rows, "items")
    _reject_unknown_customers(session, rows, customer_ids)
    return _valid(rows, IncomingBatch(values, keys, customer_ids, values["order_id"], lines))


def _customer_upserts(rows: col.Rows) -> list[CustomerUpsert | None]:
    """Each customer row validated as an upsert (customer files are small: per-row validation is fine)."""
    traits = {name: col.text(rows, name, max_length=1000) for name in ("name", "language", "country", "segment")}
    kinds = [name for name in rows.batch.schema.names if col.is_identity(name)]
    identities = {name: col.text(rows, name, max_length=1000) for name in kinds}
    extra = col.attributes(rows)
    consents = _consents(rows)
    upserts: list[CustomerUpsert | None] = [None] * rows.size
    for index in range(rows.size):
        if rows.reasons[index] is None:
            found = {kind: values[index] for kind, values in identities.items() if values[index] is not None}
            given = {name: values[index] for name, values in traits.items() if values[index] is not None}
            data = {**given, "identities": found, "attributes": extra[index], "consents": consents[index]}
            upserts[index] = _upsert(rows, index, data)
    return upserts


def _consents(rows: col.Rows) -> list[list[dict[str, Any]]]:
    """`consent.<purpose>` columns (yes/no, true/false, 1/0) as consent decisions from this import."""
    decided: list[list[dict[str, Any]]] = [[] for _ in range(rows.size)]
    for name in rows.batch.schema.names:
        if name.startswith(CONSENT):
            purpose = name.removeprefix(CONSENT)
            for index, value in enumerate(col.text(rows, name, max_length=10)):
                if value is not None:
                    decided[index].append({"purpose": purpose, "granted": value.strip().lower(), "source": "import"})
    return decided


def _upsert(rows: col.Rows, index: int, data: dict[str, Any]) -> CustomerUpsert | None:
    if not data["attributes"]:
        del data["attributes"]  # left out, so the stored attributes are kept as they are
    try:
        return CustomerUpsert.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        rows.reject_row(index, f"{where}: {first['msg']}" if where else first["msg"])
        return None
