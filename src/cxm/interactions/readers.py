"""Import files: format detection, reading in record batches with pyarrow, and the rejected-rows file."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from cxm.core.errors import InvalidInput

FORMATS = ("csv", "jsonl", "parquet")
EXTENSIONS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".parquet": "parquet"}
# Nested JSON objects are flattened to `identities.email`, `attributes.plan`: these prefixes say what they were.
TIMESTAMPS = ("occurred_at", "responded_at")
NESTED = {"identities.": "", "attributes.": "attr."}


@dataclass
class Source:
    """An opened import file: its row count, its columns and its record batches."""

    total: int
    columns: list[str]
    batches: Iterator[pa.RecordBatch]


def detect_format(path: Path, given: str | None) -> str:
    """The file's format: as given, or from its extension."""
    chosen = (given or EXTENSIONS.get(path.suffix.lower(), "")).strip().lower()
    if chosen not in FORMATS:
        shown = given or path.suffix or "no extension"
        raise InvalidInput(f"unknown file format '{shown}' for {path.name}: use --format csv, jsonl or parquet")
    return chosen


def open_source(path: Path, file_format: str, batch_rows: int) -> Source:
    """Open `path` for reading in batches of at most `batch_rows` rows."""
    if not path.is_file():
        raise InvalidInput(f"no such file: {path}")
    try:
        if file_format == "parquet":
            return _parquet(path, batch_rows)
        if file_format == "csv":
            return _csv(path, batch_rows)
        table = _jsonl(path)
    except (pa.ArrowException, OSError, UnicodeDecodeError, csv.Error) as error:
        raise InvalidInput(f"cannot read {path.name} as {file_format}: {error}") from None
    table = _flattened(table)
    return Source(table.num_rows, table.column_names, iter(table.to_batches(max_chunksize=batch_rows)))


def _parquet(path: Path, batch_rows: int) -> Source:
    parquet = pq.ParquetFile(path)
    columns = [_renamed(name) for name in parquet.schema_arrow.names]
    batches = (_flattened_batch(batch) for batch in parquet.iter_batches(batch_size=batch_rows))
    return Source(parquet.metadata.num_rows, columns, batches)


def _csv(path: Path, batch_rows: int) -> Source:
    """Stream a CSV file: memory stays bounded however large the file is."""
    # Every column is read as text, so `00123` stays `00123` and `+420...` stays a phone number.
    with path.open(newline="", encoding="utf-8-sig") as handle:
        header = next(csv.reader(handle), [])
    if not header:
        raise InvalidInput(f"{path.name} is empty: a CSV import needs a header row")
    convert = pa_csv.ConvertOptions(
        column_types={name: pa.string() for name in header}, null_values=[""], strings_can_be_null=True
    )
    reader = pa_csv.open_csv(path, convert_options=convert)
    return Source(_line_count(path) - 1, header, _rebatched(reader, batch_rows))


def _line_count(path: Path) -> int:
    """Lines in the file: the expected row count for progress (a quoted field may span lines)."""
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))


def _rebatched(reader: Any, batch_rows: int) -> Iterator[pa.RecordBatch]:
    try:
        for batch in reader:
            for start in range(0, batch.num_rows, batch_rows):
                yield batch.slice(start, batch_rows)
    except pa.ArrowException as error:
        raise InvalidInput(f"cannot read the CSV file: {error}") from None


def _jsonl(path: Path) -> pa.Table:
    # pyarrow would read "...T10:00:00Z" as a timestamp and drop its zone: timestamps are read as text.
    schema = pa.schema([(name, pa.string()) for name in TIMESTAMPS])
    options = pa_json.ParseOptions(explicit_schema=schema, unexpected_field_behavior="infer")
    table = pa_json.read_json(path, parse_options=options)
    absent = [name for name in TIMESTAMPS if table.column(name).null_count == table.num_rows]
    return table.drop_columns(absent)


def _renamed(name: str) -> str:
    for prefix, replacement in NESTED.items():
        if name.startswith(prefix):
            return replacement + name.removeprefix(prefix)
    return name


def _flattened(table: pa.Table) -> pa.Table:
    while any(pa.types.is_struct(field.type) for field in table.schema):
        table = table.flatten()
    return table.rename_columns([_renamed(name) for name in table.column_names])


def _flattened_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    if not any(pa.types.is_struct(field.type) for field in batch.schema):
        return batch.rename_columns([_renamed(name) for name in batch.schema.names])
    table = _flattened(pa.Table.from_batches([batch]))
    return table.combine_chunks().to_batches()[0]


def default_rejected_path(path: Path) -> Path:
    """Where rejected rows go unless told otherwise: `<file>.rejected.csv` beside the input."""
    return path.with_name(path.name + ".rejected.csv")


class RejectedRows:
    """The rejected-rows CSV (row number, reason, original values), created on the first rejection."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self._handle: TextIO | None = None
        self._writer: Any = None
        self._columns: list[str] = []

    def write(self, row: int, reason: str, values: dict[str, Any]) -> None:
        """Record one rejected row (`row` counts data rows from 1)."""
        if self._writer is None:
            self._open(list(values))
        self._writer.writerow([row, reason, *(_cell(values.get(name)) for name in self._columns)])
        self.count += 1

    def _open(self, columns: list[str]) -> None:
        self._columns = columns
        self._handle = self.path.open("w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._handle)
        self._writer.writerow(["row", "reason", *columns])

    def __enter__(self) -> RejectedRows:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if self._handle is not None:
            self._handle.close()


def _cell(value: Any) -> str:
    return "" if value is None else str(value)
