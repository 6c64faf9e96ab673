"""Text analytics: `cxm text analyze FILE`, `evaluate FILE`, `train`, `models`, `backfill`."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cxm.cli.base import app, console, open_hub, out, progress_bar
from cxm.core.errors import InvalidInput

text_app = typer.Typer(help="Language, sentiment and keyphrases of texts, offline.", no_args_is_help=True)
app.add_typer(text_app, name="text")

TextColumn = Annotated[str, typer.Option(help="The CSV column holding the text")]


@text_app.command("analyze")
def analyze(
    file: Annotated[Path, typer.Argument(help="A .txt file (one text per line) or a .csv file")],
    text_column: TextColumn = "text",
    language: Annotated[str | None, typer.Option(help="Skip detection: every text is in this language")] = None,
) -> None:
    """Print one JSON line per text: language, sentiment score and label, keyphrases."""
    texts = [row[text_column] for row in _rows(file, text_column)] if file.suffix == ".csv" else _lines(file)
    hub = open_hub()
    try:
        frame = hub.text.analyze(texts, language=language)
    finally:
        hub.close()
    for row in frame.to_dict(orient="records"):
        out.print(json.dumps(row, ensure_ascii=False), highlight=False, markup=False)


@text_app.command("evaluate")
def evaluate(
    file: Annotated[Path, typer.Argument(help="A CSV file with a text and a label column")],
    label_column: Annotated[str, typer.Option(help="The column with the label or rating")],
    text_column: TextColumn = "text",
    positive: Annotated[str, typer.Option(help="Comma-separated values that mean positive")] = "positive",
    negative: Annotated[str, typer.Option(help="Comma-separated values that mean negative")] = "negative",
    limit: Annotated[int | None, typer.Option(help="Evaluate on this many rows drawn at random (seeded)")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the random draw")] = 0,
) -> None:
    """Accuracy and macro-F1 of the engine in use on positive vs negative texts (other labels are left out)."""
    from cxm.text import service as text_service

    texts, labels = _labelled(file, text_column, label_column, _values(positive), _values(negative))
    texts, labels = _sample(texts, labels, limit, seed)
    hub = open_hub()
    try:
        with console.status(f"analysing {len(texts)} texts"):
            result = text_service.evaluate(hub.text.engine(), texts, labels)
    finally:
        hub.close()
    out.print(f"texts {result.n}  accuracy {result.accuracy:.3f}  macro-F1 {result.macro_f1:.3f}", highlight=False)


@text_app.command("train")
def train() -> None:
    """Train on the company's rated comments; adopted only if better than the engine in use on the newest ones."""
    hub = open_hub()
    try:
        with console.status("training on rated comments"):
            model = hub.text.train()
    finally:
        hub.close()
    verdict = "adopted" if model.active else "kept the engine in use (the new model was not better)"
    out.print(
        f"model {model.id}: trained on {model.train_size}, tested on the newest {model.test_size}: macro-F1 "
        f"{model.macro_f1:.3f} vs {model.baseline_macro_f1:.3f} in use; {verdict}",
        highlight=False,
    )


@text_app.command("backfill")
def backfill() -> None:
    """Analyse every stored survey comment and interaction text into signals (current ones are skipped)."""
    hub = open_hub()
    try:
        with progress_bar() as bar:
            task = bar.add_task("analysing stored texts", total=None)
            analysed = hub.text.backfill(lambda done, total: bar.update(task, completed=done, total=total))
    finally:
        hub.close()
    out.print(f"{analysed} text(s) analysed", highlight=False)


@text_app.command("models")
def models() -> None:
    """Every training run with its figures; * marks the model in use."""
    hub = open_hub()
    try:
        frame = hub.text.models()
    finally:
        hub.close()
    table = Table("id", "in use", "trained", "train", "test", "macro-F1", "in use before", "accuracy")
    for m in frame.itertuples():
        table.add_row(
            str(m.id),
            "*" if m.active else "",
            f"{m.created_at:%Y-%m-%d %H:%M}",
            str(m.train_size),
            str(m.test_size),
            f"{m.macro_f1:.3f}",
            f"{m.baseline_macro_f1:.3f}",
            f"{m.accuracy:.3f}",
        )
    out.print(table)


def _lines(file: Path) -> list[str]:
    return [line for line in _read(file).splitlines() if line.strip()]


def _read(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInput(f"cannot read {file}: {error}") from None


def _rows(file: Path, *columns: str) -> list[dict[str, str]]:
    reader = csv.DictReader(_read(file).splitlines(keepends=True))
    missing = [c for c in columns if c not in (reader.fieldnames or [])]
    if missing:
        raise InvalidInput(f"{file} has no column {', '.join(missing)} (it has {', '.join(reader.fieldnames or [])})")
    return list(reader)


def _values(option: str) -> set[str]:
    return {v.strip() for v in option.split(",") if v.strip()}


def _labelled(
    file: Path, text_column: str, label_column: str, positive: set[str], negative: set[str]
) -> tuple[list[str], list[str]]:
    pairs = [(r[text_column], r[label_column].strip()) for r in _rows(file, text_column, label_column)]
    kept = [(t, "positive" if v in positive else "negative") for t, v in pairs if v in positive | negative and t]
    if not kept:
        raise InvalidInput(f"no row of {file} has a {label_column} among {sorted(positive | negative)}")
    return [t for t, _ in kept], [label for _, label in kept]


def _sample(texts: list[str], labels: list[str], limit: int | None, seed: int) -> tuple[list[str], list[str]]:
    if limit is None or limit >= len(texts):
        return texts, labels
    chosen = sorted(random.Random(seed).sample(range(len(texts)), limit))
    return [texts[i] for i in chosen], [labels[i] for i in chosen]
