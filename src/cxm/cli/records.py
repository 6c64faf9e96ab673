"""Importing customers, interactions, orders and survey responses from files."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from cxm.cli.base import app, out, progress_bar, sync_analytics, unit_of_work
from cxm.core.errors import CxmError


class ImportKind(StrEnum):
    """What an import file holds."""

    customers = "customers"
    interactions = "interactions"
    orders = "orders"
    responses = "responses"


@app.command("import")
def import_command(
    kind: ImportKind,
    path: Annotated[Path, typer.Argument(help="CSV, JSON Lines or Parquet file; for responses a CSV file")],
    file_format: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="customers/interactions/orders: csv | jsonl | parquet (default: extension); "
            "responses: qualtrics | csv (default: qualtrics when the file has Qualtrics' three header rows)",
        ),
    ] = None,
    mapping: Annotated[list[str] | None, typer.Option("--map", help="field=column, repeatable")] = None,
    rejected: Annotated[Path | None, typer.Option(help="Where to write rejected rows (CSV)")] = None,
    survey: Annotated[str | None, typer.Option(help="responses: the survey they answer (key or id)")] = None,
    mapping_file: Annotated[
        Path | None, typer.Option("--mapping", help="responses: YAML file naming the columns and questions")
    ] = None,
) -> None:
    """Import customers, interactions or orders (CSV, JSON Lines, Parquet) or survey responses (Qualtrics, CSV)."""
    if not path.is_file():
        raise CxmError(f"no such file: {path}")
    if kind is ImportKind.responses:
        if mapping:
            raise CxmError("--map is for customers, interactions and orders; responses take --mapping FILE")
        _import_responses(path, file_format, survey, mapping_file, rejected)
        return
    if survey is not None or mapping_file is not None:
        raise CxmError("--survey and --mapping are for responses; use --map field=column for other kinds")
    _import_records(kind, path, file_format, mapping or [], rejected)


def _import_records(
    kind: ImportKind, path: Path, file_format: str | None, pairs: list[str], rejected: Path | None
) -> None:
    from cxm.interactions import importers

    fields = importers.parse_mapping(pairs)
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
    sync_analytics()


def _import_responses(
    path: Path, file_format: str | None, survey: str | None, mapping_file: Path | None, rejected: Path | None
) -> None:
    from cxm.feedback import service as feedback_service

    mapping = feedback_service.load_mapping(mapping_file) if mapping_file is not None else None
    with progress_bar() as bar, unit_of_work() as session:
        task = bar.add_task("importing responses", total=None)
        summary = feedback_service.import_responses(
            session,
            path,
            survey=survey,
            file_format=file_format,
            mapping=mapping,
            rejected_path=rejected,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
            actor="cli:import",
        )
    out.print(summary.describe(), highlight=False, markup=False)
    sync_analytics()
