"""Qualtrics CSV exports: three header rows (column ids, question texts, ImportId JSON), one response a row.

What is read:
- `ResponseId` becomes the response's external id (a re-run stores nothing twice);
- `RecipientEmail` and `ExternalReference` are identities (email, external_id) that attach the response to a
  customer, created (named from RecipientFirstName/LastName) when new; a row without them is anonymous;
- `UserLanguage` ("EN", "CS", "PL-PL") is the response's language;
- `StartDate` / `EndDate` ("2026-10-01 09:15:42") are read in the zone their ImportId names
  (`{"ImportId":"startDate","timeZone":"Europe/Prague"}`);
- `Finished` 0 stores a partial response (required answers not enforced), 1 a complete one;
- `Status` "Survey Preview", "Survey Test" and "Spam" (1, 2, 8 as numbers) rows are rejected;
- `DistributionChannel` email/sms becomes the channel, anything else "link".
IP address and location are not kept (cxm does not need them). Embedded data columns are ignored.

Questions are matched by a mapping file (`questions: {Q1: nps, QID3: improve}`: column ids, data export tags or
QIDs) or, without one, by data export tag equal to the question key ("nps" answers `nps`), or failing that by
position when the export has exactly as many questions as the survey. Values may be exported as numbers
(recode values: options count from 1 unless `choices:` says otherwise) or as choice text ("Prices",
"10 - Extremely likely"). Multiple-answer questions come as one cell ("1,3" or "Prices,Delivery") or split
into one column per choice (`Q3_1`, `Q3_2`, ... holding 1 or the choice text). `_NPS_GROUP` columns are derived
from the score and ignored; `_TEXT` columns ("Other: ...") are read only when mapped to a text question.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

import orjson

from cxm.core.errors import InvalidInput
from cxm.feedback import cells
from cxm.feedback.answers import AnswerProblem
from cxm.feedback.ingest import IncomingResponse
from cxm.feedback.mappings import Converter, ResponseMapping
from cxm.feedback.models import Question, Survey

META = {
    "startDate": "StartDate",
    "endDate": "EndDate",
    "status": "Status",
    "ipAddress": "IPAddress",
    "progress": "Progress",
    "duration": "Duration (in seconds)",
    "finished": "Finished",
    "recordedDate": "RecordedDate",
    "_recordId": "ResponseId",
    "recipientLastName": "RecipientLastName",
    "recipientFirstName": "RecipientFirstName",
    "recipientEmail": "RecipientEmail",
    "externalDataReference": "ExternalReference",
    "locationLatitude": "LocationLatitude",
    "locationLongitude": "LocationLongitude",
    "distributionChannel": "DistributionChannel",
    "userLanguage": "UserLanguage",
}
QUESTION_ID = re.compile(r"^(QID\d+)(?:#\d+)?(?:_(\d+))?(?:_(TEXT|NPS_GROUP))?$")
NOT_RESPONSES = {"1": "a survey preview", "2": "a survey test", "8": "spam", "survey preview": "a survey preview"}
NOT_RESPONSES |= {"survey test": "a survey test", "spam": "spam"}
CHANNELS = {"email": "email", "sms": "sms"}


@dataclass
class ExportQuestion:
    """The columns of one Qualtrics question: one answer column, or one column per choice."""

    qid: str
    tag: str
    main: str | None = None
    split: dict[str, str] = field(default_factory=dict)  # choice id -> column
    others: list[str] = field(default_factory=list)  # _TEXT and _NPS_GROUP columns

    def cell(self, values: dict[str, str]) -> str | list[str] | None:
        """This question's answer in a row: the cell, or the chosen choices of split columns."""
        if self.main is not None:
            return values.get(self.main)
        chosen = [(choice, (values.get(column) or "").strip()) for choice, column in self.split.items()]
        return [choice if value == "1" else value for choice, value in chosen if value]


@dataclass
class Header:
    """The three header rows, read."""

    columns: list[str]
    import_ids: dict[str, dict[str, Any]]

    def column(self, import_id: str) -> str | None:
        """The column of a metadata field, by ImportId (or by its usual column id)."""
        for column, data in self.import_ids.items():
            if data.get("ImportId") == import_id:
                return column
        usual = META[import_id]
        return usual if usual in self.columns else None

    def zone(self, import_id: str) -> str | None:
        """The time zone a date column's ImportId names."""
        column = self.column(import_id)
        return self.import_ids.get(column or "", {}).get("timeZone")


def read_header(rows: Iterator[list[str]]) -> Header:
    """Check and read the three header rows; InvalidInput when this is not a Qualtrics export."""
    head = [next(rows, None) for _ in range(3)]
    if head[0] is None or head[2] is None:
        raise InvalidInput("not a Qualtrics export: it needs three header rows (column ids, texts, ImportId)")
    import_ids = {column: _import_id(cell) for column, cell in zip(head[0], head[2], strict=False)}
    if not any(import_ids.values()):
        raise InvalidInput('not a Qualtrics export: the third row holds no {"ImportId": ...} cells')
    header = Header(columns=head[0], import_ids={k: v for k, v in import_ids.items() if v})
    if header.column("_recordId") is None:
        raise InvalidInput("not a Qualtrics export: there is no ResponseId column")
    return header


def _import_id(cell: str) -> dict[str, Any]:
    if "ImportId" not in cell:
        return {}
    try:
        data = orjson.loads(cell)
    except orjson.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) and isinstance(data.get("ImportId"), str) else {}


def export_questions(header: Header) -> list[ExportQuestion]:
    """The export's questions in column order, each with its columns."""
    found: dict[str, ExportQuestion] = {}
    for column in header.columns:
        match = QUESTION_ID.match(header.import_ids.get(column, {}).get("ImportId", ""))
        if match is None:
            continue
        qid, choice, suffix = match.groups()
        question = found.setdefault(qid, ExportQuestion(qid=qid, tag=_tag(column, choice, suffix)))
        if suffix == "NPS_GROUP" or (suffix == "TEXT" and choice is not None):
            question.others.append(column)
        elif choice is not None:
            question.split[choice] = column
        else:
            question.main = column
    return list(found.values())


def _tag(column: str, choice: str | None, suffix: str | None) -> str:
    """The data export tag: the column id without its `_<choice>` / `_TEXT` / `_NPS_GROUP` ending."""
    for ending in (f"_{choice}_{suffix}", f"_{choice}", f"_{suffix}"):
        if column.endswith(ending):
            return column.removesuffix(ending)
    return column


def matched(
    exported: list[ExportQuestion], questions: list[Question], mapping: ResponseMapping
) -> list[tuple[ExportQuestion, Question]]:
    """Which export question answers which survey question."""
    by_key = {question.key: question for question in questions}
    if mapping.questions:
        return [(_named(exported, name), _question(by_key, key)) for name, key in mapping.questions.items()]
    by_tag = {q.tag.casefold(): q for q in exported}
    pairs = [(by_tag[q.key.casefold()], q) for q in questions if q.key.casefold() in by_tag]
    if pairs:
        return pairs
    answerable = [q for q in exported if q.main is not None or q.split]
    if len(answerable) != len(questions):
        raise InvalidInput(
            f"cannot tell which of the export's {len(answerable)} questions answer the survey's {len(questions)}:"
            f" give --mapping with questions: {{{', '.join(f'{q.tag}: ...' for q in answerable[:3])}}}"
        )
    return list(zip(answerable, questions, strict=True))


def _named(exported: list[ExportQuestion], name: str) -> ExportQuestion:
    for question in exported:
        if name in (question.qid, question.tag):
            return question
        if name == question.main or name in question.split.values() or name in question.others:
            return _single(question, name)
    raise InvalidInput(f"mapping: the export has no question or column '{name}'")


def _single(question: ExportQuestion, column: str) -> ExportQuestion:
    return ExportQuestion(qid=question.qid, tag=column, main=column)


def _question(by_key: dict[str, Question], key: str) -> Question:
    if key not in by_key:
        raise InvalidInput(f"mapping: no question '{key}' in the survey; it has {', '.join(by_key)}")
    return by_key[key]


def layout(
    rows: Iterator[list[str]], survey: Survey, questions: list[Question], mapping: ResponseMapping
) -> tuple[list[str], Converter, list[str]]:
    """Read the header rows; the column ids, how to read each row, and the ignored columns."""
    header = read_header(rows)
    pairs = matched(export_questions(header), questions, mapping)
    reader = _ExportRows(header, survey, pairs, mapping)
    used = {c for q, _ in pairs for c in [q.main, *q.split.values()] if c} | set(_meta_columns(header))
    return header.columns, reader.record, [c for c in header.columns if c not in used]


def _meta_columns(header: Header) -> list[str]:
    return [column for import_id in META if (column := header.column(import_id))]


class _ExportRows:
    """Turns one row of a Qualtrics export into a response."""

    def __init__(
        self, header: Header, survey: Survey, pairs: list[tuple[ExportQuestion, Question]], mapping: ResponseMapping
    ) -> None:
        self.survey, self.pairs, self.mapping = survey, pairs, mapping
        self.columns = {import_id: header.column(import_id) for import_id in META}
        self.zones = {name: self._zone(header, name) for name in ("startDate", "endDate", "recordedDate")}

    def _zone(self, header: Header, import_id: str) -> tzinfo | None:
        # Without one, times must carry their own zone (rows whose times do not are rejected).
        return cells.time_zone(header.zone(import_id) or self.mapping.timezone)

    def get(self, values: dict[str, str], import_id: str) -> str | None:
        """A metadata cell's trimmed text, None when empty or absent."""
        column = self.columns[import_id]
        value = (values.get(column) or "").strip() if column else ""
        return value or None

    def record(self, values: dict[str, str]) -> IncomingResponse:
        """The response a row holds; CellProblem or AnswerProblem when it cannot be read."""
        self._check_status(values)
        response_id = self.get(values, "_recordId")
        if response_id is None:
            raise cells.CellProblem("ResponseId: missing")
        finished = cells.truthy(self.get(values, "finished"))
        language = cells.language(self.get(values, "userLanguage"), self.survey.languages)
        return IncomingResponse(
            answers=self._answers(values),
            keys=self._keys(values),
            traits={k: v for k, v in {"name": self._name(values), "language": language}.items() if v},
            external_id=response_id,
            language=language,
            channel=CHANNELS.get((self.get(values, "distributionChannel") or "").lower(), "link"),
            complete=finished,
            started_at=self._time(values, "startDate"),
            completed_at=self._time(values, "endDate") or self._time(values, "recordedDate"),
            attributes=self._attributes(values, finished),
        )

    def _check_status(self, values: dict[str, str]) -> None:
        status = (self.get(values, "status") or "").lower()
        if status in NOT_RESPONSES:
            raise cells.CellProblem(f"Status: {NOT_RESPONSES[status]}, not a real response")

    def _answers(self, values: dict[str, str]) -> dict[str, Any]:
        answers: dict[str, Any] = {}
        for exported, question in self.pairs:
            choices = self.mapping.choices_of(question.key)
            try:
                value = cells.answer(question, exported.cell(values), choices, self.mapping.separator)
            except AnswerProblem as problem:
                raise AnswerProblem(f"{exported.tag} ({question.key}): {problem}") from None
            if value is not None:
                answers[question.key] = value
        return answers

    def _keys(self, values: dict[str, str]) -> tuple[Any, ...]:
        keys = [
            cells.identity("email", self.get(values, "recipientEmail")),
            cells.identity("external_id", self.get(values, "externalDataReference")),
        ]
        return tuple(sorted({key for key in keys if key is not None}))

    def _name(self, values: dict[str, str]) -> str | None:
        parts = [self.get(values, "recipientFirstName"), self.get(values, "recipientLastName")]
        return " ".join(part for part in parts if part) or None

    def _time(self, values: dict[str, str], import_id: str) -> Any:
        try:
            return cells.timestamp(self.get(values, import_id), self.zones[import_id])
        except cells.CellProblem as problem:
            raise cells.CellProblem(f"{META[import_id]}: {problem}") from None

    def _attributes(self, values: dict[str, str], finished: bool) -> dict[str, Any]:
        found: dict[str, Any] = {"source": "qualtrics"}
        if channel := self.get(values, "distributionChannel"):
            found["distribution_channel"] = channel
        progress = self.get(values, "progress")
        if not finished and progress and progress.isdigit():
            found["progress"] = int(progress)
        return found
