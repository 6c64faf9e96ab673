"""Importing customers, interactions and orders from files."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from cxm.cli.base import app, out, progress_bar, unit_of_work
from cxm.core.errors import CxmError


class ImportKind(StrEnum):
    """What an import file holds."""

    customers = "customers"
    interactions = "interactions"
    orders = "orders"


@app.command("import")
def import_command(
    kind: ImportKind,
    path: Annotated[Path, typer.Argument(help="CSV, JSON Lines or Parquet file")],
    file_format: Annotated[
        str | None, typer.Option("--format", help="csv | jsonl | parquet (default: extension)")
    ] = None,
    mapping: Annotated[list[str] | None, typer.Option("--map", help="field=column, repeatable")] = None,
    rejected: Annotated[Path | None, typer.Option(help="Where to write rejected rows (CSV)")] = None,
) -> None:
    """Import customers, interactions or orders from CSV, JSON Lines or Parquet."""
    from cxm.interactions import importers

    if not path.is_file():
        raise CxmError(f"no such file: {path}")
    fields = importers.parse_mapping(mapping or [])
    with progress_bar() as bar, unit_of_work() as session:
        task = bar.add_task(f"importing {kind}", total=None)
        summary = importers.import_file(
            session,
            kind.value,
            path,
            file_format=file_format,
            mapping=fields,
            rejected_path=rejected,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
            actor="cli:import",
        )
    out.print(summary.describe(), highlight=False)
