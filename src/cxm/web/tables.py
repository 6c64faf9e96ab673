"""Tables for download: any page's table as CSV (`?format=csv&table=NAME` on the page's own URL)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi.responses import Response


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """Rows as CSV text (cells that start like a formula are quoted with a ' so spreadsheets do not run them)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(value) for value in row])
    return buffer.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    """A CSV download."""
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    return Response(csv_text(header, rows), media_type="text/csv; charset=utf-8", headers=headers)


@dataclass(frozen=True)
class PageTable:
    """A table a page shows, downloadable: its name (the `table` parameter), (key, header) columns and rows."""

    name: str
    columns: Sequence[tuple[str, str]]
    rows: Sequence[Mapping[str, Any]]

    def download(self, page: str) -> Response:
        """The table as `<page>-<name>.csv`."""
        cells = ([row.get(key) for key, _ in self.columns] for row in self.rows)
        return csv_response(f"{page}-{self.name}.csv", [header for _, header in self.columns], cells)
