"""Import survey responses collected by other tools: Qualtrics CSV exports, or any CSV with a mapping file.

A mapping file (YAML) says which column holds what; every key is optional:

    survey: purchase-csat            # the cxm survey (or --survey)
    response_id: Response ID         # the tool's id: a re-run stores nothing twice
    identities: {email: E-mail, phone: Phone, external_id: Customer no}
    name: Name                       # the customer's name, for customers created by the import
    language: Language               # "cs", "EN", "pl-PL"
    started_at: Started
    completed_at: Submitted
    finished: Finished               # 1/0, true/false, yes/no; unfinished rows are stored as partial responses
    timezone: Europe/Prague          # for times written without a zone
    time_format: "%d.%m.%Y %H:%M"    # when the times are not ISO 8601
    channel: email                   # how the answers were collected (default "import")
    separator: ";"                   # between the options of a multi-choice cell (default ",")
    questions: {Satisfaction: csat, Comment: comment}    # column -> question key
    choices: {found: {Ano: "yes", Ne: "no"}}              # question key -> {value in the file: option or score}

Without `questions`, columns named like the survey's question keys answer those questions. Choice cells may
hold the option's value, its label in any of the survey's languages, or its number (1 = first option).
Without `response_id` a row's id is a hash of its content, so re-running the same file still adds nothing.
Qualtrics exports need no mapping at all (see `qualtrics.py`); one may still rename questions and choices.

Rows that cannot be stored (a score out of range, an unknown option, a bad e-mail, a missing required answer)
are written to the rejected-rows CSV with their row number (data rows count from 1) and the reason; the rest
is stored in the caller's one transaction. A file that cannot be read at all stores nothing.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy.orm import Session

from cxm.core.errors import InvalidInput
from cxm.customers import service as customers_service
from cxm.feedback import cells, qualtrics
from cxm.feedback.answers import AnswerProblem
from cxm.feedback.ingest import IncomingResponse, store_responses
from cxm.feedback.mappings import Converter, ResponseMapping
from cxm.feedback.models import Question, Survey
from cxm.feedback.surveys import get_survey, questions_of
from cxm.interactions import service as interactions_service

FORMATS = ("qualtrics", "csv")
BATCH_ROWS = 1000
Progress = Callable[[int, int], None]


@dataclass
class ResponseImportSummary:
    """What a response import did."""

    survey: str
    imported: int = 0
    partial: int = 0
    duplicates: int = 0
    rejected: int = 0
    rejected_path: Path | None = None
    ignored_columns: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """One short human summary."""
        text = f"{self.imported:,} responses imported into {self.survey}"
        if self.partial:
            text += f" ({self.partial:,} partial)"
        text += f", {self.duplicates:,} duplicates skipped, {self.rejected:,} rejected"
        if self.rejected_path is not None:
            text += f" (see {self.rejected_path})"
        if self.ignored_columns:
            text += f"; ignored columns: {', '.join(self.ignored_columns)}"
        return text


def detect_format(path: Path, given: str | None) -> str:
    """`qualtrics` or `csv`: as given, else qualtrics when the third row holds ImportId JSON."""
    if given is not None:
        chosen = given.strip().lower()
        if chosen not in FORMATS:
            raise InvalidInput(f"unknown response file format '{given}': use --format qualtrics or csv")
        return chosen
    head = _header_rows(path, 3)
    return "qualtrics" if len(head) == 3 and any('"ImportId"' in cell for cell in head[2]) else "csv"


def _header_rows(path: Path, count: int) -> list[list[str]]:
    rows: list[list[str]] = []
    with _opened(path) as handle:
        reader = csv.reader(handle)
        for row in _guarded(reader, path):
            rows.append(row)
            if len(rows) == count:
                break
    return rows


def _opened(path: Path) -> Any:
    if not path.is_file():
        raise InvalidInput(f"no such file: {path}")
    return path.open(newline="", encoding="utf-8-sig")


def _guarded(rows: Iterator[list[str]], path: Path) -> Iterator[list[str]]:
    """The CSV rows, with a reading failure (not UTF-8, broken quoting) as one clear error."""
    try:
        yield from rows
    except UnicodeDecodeError:
        raise InvalidInput(f"cannot read {path.name}: it is not UTF-8 text") from None
    except csv.Error as error:
        raise InvalidInput(f"cannot read {path.name} as CSV: {error}") from None


def import_responses(
    session: Session,
    path: Path,
    *,
    survey: str | None = None,
    file_format: str | None = None,
    mapping: ResponseMapping | None = None,
    rejected_path: Path | None = None,
    progress: Progress | None = None,
    actor: str,
) -> ResponseImportSummary:
    """Import a Qualtrics export or a mapped CSV file of responses into a survey, in the session's transaction."""
    chosen = detect_format(path, file_format)
    mapping = mapping or ResponseMapping()
    if chosen == "csv" and not mapping.model_fields_set:
        raise InvalidInput("a generic CSV import needs --mapping (a YAML file naming the columns)")
    target = _target(session, survey or mapping.survey)
    questions = questions_of(session, target.id)
    with _opened(path) as handle:
        rows = _guarded(csv.reader(handle), path)
        if chosen == "qualtrics":
            header, convert, ignored = qualtrics.layout(rows, target, questions, mapping)
        else:
            header = next(rows, [])
            convert, ignored = csv_layout(header, target, questions, mapping)
        summary = ResponseImportSummary(survey=target.key, ignored_columns=ignored)
        total = max(0, _line_count(path) - (3 if chosen == "qualtrics" else 1))
        counted = (lambda done: progress(done, max(done, total))) if progress else None
        _import_rows(session, target, header, rows, convert, summary, rejected_path or _beside(path), counted, actor)
    return summary


def _target(session: Session, reference: str | None) -> Survey:
    if not reference:
        raise InvalidInput("which survey do the responses belong to? give --survey KEY (or survey: in the mapping)")
    return get_survey(session, reference)


def _beside(path: Path) -> Path:
    return path.with_name(path.name + ".rejected.csv")


def _line_count(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))


def _import_rows(
    session: Session,
    survey: Survey,
    header: list[str],
    rows: Iterator[list[str]],
    convert: Converter,
    summary: ResponseImportSummary,
    rejected_path: Path,
    progress: Callable[[int], None] | None,
    actor: str,
) -> None:
    done = 0
    with interactions_service.RejectedRows(rejected_path) as rejected:
        for batch in _batches(rows, header):
            _import_batch(session, survey, batch, convert, summary, rejected, actor)
            done += len(batch)
            if progress is not None:
                progress(done)
    summary.rejected = rejected.count
    summary.rejected_path = rejected.path if rejected.count else None


def _batches(rows: Iterator[list[str]], header: list[str]) -> Iterator[list[tuple[int, dict[str, str]]]]:
    """Numbered rows (data rows count from 1) as column -> cell, in batches; blank lines are skipped."""
    batch: list[tuple[int, dict[str, str]]] = []
    for number, row in enumerate((r for r in rows if any(cell.strip() for cell in r)), start=1):
        batch.append((number, dict(zip(header, row, strict=False))))
        if len(batch) == BATCH_ROWS:
            yield batch
            batch = []
    if batch:
        yield batch


def _import_batch(
    session: Session,
    survey: Survey,
    batch: list[tuple[int, dict[str, str]]],
    convert: Converter,
    summary: ResponseImportSummary,
    rejected: Any,
    actor: str,
) -> None:
    reasons: dict[int, str] = {}
    items: list[IncomingResponse] = []
    numbers: list[int] = []
    for number, values in batch:
        try:
            items.append(convert(values))
            numbers.append(number)
        except (cells.CellProblem, AnswerProblem) as problem:
            reasons[number] = str(problem)
    result = store_responses(session, survey, items, actor=actor)
    reasons.update({numbers[index]: reason for index, reason in result.problems.items()})
    summary.imported += result.stored
    summary.duplicates += result.duplicates
    summary.partial += sum(1 for i, rid in enumerate(result.response_ids) if rid is not None and not items[i].complete)
    for number, values in batch:
        if number in reasons:
            rejected.write(number, reasons[number], values)


# -- generic CSV ---------------------------------------------------------------------------------------


def csv_layout(
    header: list[str], survey: Survey, questions: list[Question], mapping: ResponseMapping
) -> tuple[Converter, list[str]]:
    """How to read each row of a mapped CSV file, and the columns it ignores."""
    if not header:
        raise InvalidInput("the file is empty: a CSV import needs a header row")
    answered = _answered_columns(header, questions, mapping)
    singles = [mapping.response_id, mapping.name, mapping.language, mapping.started_at, mapping.completed_at]
    named = [c for c in [*singles, mapping.finished, *mapping.identities.values(), *answered] if c]
    missing = sorted({c for c in named if c not in header})
    if missing:
        raise InvalidInput(f"mapped column(s) not in the file: {', '.join(missing)}; it has: {', '.join(header)}")
    for kind in mapping.identities:
        _check_kind(kind)
    zone = cells.time_zone(mapping.timezone)
    reader = _CsvRows(survey, answered, mapping, zone)
    return reader.record, [c for c in header if c not in named]


def _check_kind(kind: str) -> None:
    if not customers_service.is_identity_kind(kind):
        raise InvalidInput(f"mapping: '{kind}' is not an identity kind (email, phone, external_id, ...)")


def _answered_columns(header: list[str], questions: list[Question], mapping: ResponseMapping) -> dict[str, Question]:
    by_key = {question.key: question for question in questions}
    if not mapping.questions:
        return {column: by_key[column] for column in header if column in by_key}
    unknown = sorted(set(mapping.questions.values()) - set(by_key))
    if unknown:
        raise InvalidInput(f"mapping: no question {', '.join(unknown)} in the survey; it has {', '.join(by_key)}")
    return {column: by_key[key] for column, key in mapping.questions.items()}


class _CsvRows:
    """Turns one row of a mapped CSV file into a response."""

    def __init__(self, survey: Survey, answered: dict[str, Question], mapping: ResponseMapping, zone: Any) -> None:
        self.survey, self.answered, self.mapping, self.zone = survey, answered, mapping, zone

    def record(self, values: dict[str, str]) -> IncomingResponse:
        """The response a row holds; CellProblem or AnswerProblem when it cannot be read."""
        m = self.mapping
        keys = tuple(k for kind, column in m.identities.items() if (k := cells.identity(kind, values.get(column))))
        language = cells.language(self.cell(values, m.language), self.survey.languages)
        name = self.cell(values, m.name)
        return IncomingResponse(
            answers=answers_of(values, self.answered, m),
            keys=tuple(sorted(set(keys))),
            traits={k: v for k, v in {"name": name, "language": language}.items() if v},
            external_id=self.cell(values, m.response_id) or _content_id(self.survey.key, values),
            language=language,
            channel=m.channel,
            complete=cells.truthy(self.cell(values, m.finished)),
            started_at=self.time(values, m.started_at),
            completed_at=self.time(values, m.completed_at),
            attributes={"source": "csv import"},
        )

    def cell(self, values: dict[str, str], column: str | None) -> str | None:
        """A cell's trimmed text, None when empty or not mapped."""
        value = (values.get(column) or "").strip() if column else ""
        return value or None

    def time(self, values: dict[str, str], column: str | None) -> Any:
        """A mapped time cell as aware UTC."""
        try:
            return cells.timestamp(self.cell(values, column), self.zone, self.mapping.time_format)
        except cells.CellProblem as problem:
            raise cells.CellProblem(f"{column}: {problem}") from None


def answers_of(values: dict[str, str], answered: dict[str, Question], mapping: ResponseMapping) -> dict[str, Any]:
    """Each answered question's value read from its column; AnswerProblem names the question."""
    answers: dict[str, Any] = {}
    for column, question in answered.items():
        try:
            value = cells.answer(question, values.get(column), mapping.choices_of(question.key), mapping.separator)
        except AnswerProblem as problem:
            raise AnswerProblem(f"{question.key}: {problem}") from None
        if value is not None:
            answers[question.key] = value
    return answers


def _content_id(survey_key: str, values: dict[str, str]) -> str:
    """A deterministic id for a row without one: the same row always gets the same id."""
    canonical = orjson.dumps([survey_key, values], option=orjson.OPT_SORT_KEYS)
    return "csv:" + hashlib.sha1(canonical, usedforsecurity=False).hexdigest()
