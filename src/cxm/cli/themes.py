"""Themes and corrections: `cxm text themes fit|list|rename|merge|split|impact`, `cxm text correct`."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from cxm.cli.base import console, open_hub, out, sync_analytics
from cxm.cli.text import text_app

themes_app = typer.Typer(help="The company's themes: fit, list, rename, merge, split, impact on NPS.")
text_app.add_typer(themes_app, name="themes")


def _print_themes() -> None:
    hub = open_hub()
    try:
        frame = hub.text.themes()
    finally:
        hub.close()
    table = Table("id", "name", "texts", "sentiment", "top terms")
    for t in frame.to_dict(orient="records"):
        table.add_row(
            str(t["id"]), str(t["name"]), str(t["texts"]), _number(t["sentiment"], "+.2f"), ", ".join(t["terms"])
        )
    out.print(table)


@themes_app.command("fit")
def fit(
    themes: Annotated[int, typer.Option(min=2, max=50, help="Most themes per language and kind of text")] = 8,
) -> None:
    """Fit themes over every stored text (replacing those in use) and assign them to each text."""
    hub = open_hub()
    try:
        with console.status("fitting themes"):
            hub.text.fit_themes(themes)
    finally:
        hub.close()
    _print_themes()


@themes_app.command("list")
def list_themes() -> None:
    """The themes in use: texts about each, their mean sentiment, top terms."""
    _print_themes()


@themes_app.command("rename")
def rename(theme_id: int, name: str) -> None:
    """Rename a theme."""
    hub = open_hub()
    try:
        hub.text.rename_theme(theme_id, name)
    finally:
        hub.close()
    out.print(f"theme {theme_id} is now named {name!r}", highlight=False, markup=False)


@themes_app.command("merge")
def merge(
    theme_ids: Annotated[list[int], typer.Argument(help="Two or more theme ids; merged into the first")],
    name: Annotated[str | None, typer.Option(help="A new name for the merged theme")] = None,
) -> None:
    """Merge themes into the first one; every text is re-assigned."""
    hub = open_hub()
    try:
        kept = hub.text.merge_themes(theme_ids, name=name)
    finally:
        hub.close()
    out.print(f"merged into theme {kept}", highlight=False)


@themes_app.command("split")
def split(theme_id: int) -> None:
    """Split a theme in two, refitted to its texts; every text is re-assigned."""
    hub = open_hub()
    try:
        parts = hub.text.split_theme(theme_id)
    finally:
        hub.close()
    out.print(f"theme {theme_id} split into themes {parts[0]} and {parts[1]}", highlight=False)


@themes_app.command("impact")
def impact(period: Annotated[str, typer.Option(help="day | week | month | quarter | year")] = "month") -> None:
    """Each theme's texts, sentiment and impact on NPS (with vs without the theme, 95% CI) per period."""
    sync_analytics()
    hub = open_hub()
    try:
        frame = hub.analytics.theme_impact(period=period)
    finally:
        hub.close()
    table = Table("period", "theme", "texts", "sentiment", "NPS with", "NPS without", "impact", "95% CI")
    for r in frame.to_dict(orient="records"):
        ci = "" if _number(r["impact"], "") == "" else f"{r['ci_low']:+.1f} .. {r['ci_high']:+.1f}"
        table.add_row(
            f"{r['period']:%Y-%m-%d}",
            str(r["theme"]),
            str(r["texts"]),
            _number(r["sentiment"], "+.2f"),
            _number(r["nps_with"], ".1f"),
            _number(r["nps_without"], ".1f"),
            _number(r["impact"], "+.1f"),
            ci,
        )
    out.print(table)


def _number(value: Any, spec: str) -> str:
    """A figure formatted, or nothing when it is missing (None or NaN)."""
    return "" if value is None or value != value else format(value, spec)


@text_app.command("correct")
def correct(
    source: Annotated[str, typer.Argument(help="response or interaction")],
    source_id: int,
    label: Annotated[str, typer.Argument(help="negative, neutral or positive")],
    question_id: Annotated[int | None, typer.Option(help="The text question, when a response has several")] = None,
) -> None:
    """Correct the sentiment of one stored text; the next `cxm text train` learns from it."""
    hub = open_hub()
    try:
        hub.text.correct(source, source_id, label, question_id=question_id)
    finally:
        hub.close()
    out.print(f"{source} {source_id}: sentiment set to {label}", highlight=False, markup=False)
