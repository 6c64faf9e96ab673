"""Reading answers, timestamps, languages and identities from the cells of imported response files."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cxm.core.errors import InvalidInput
from cxm.customers import service as customers_service
from cxm.feedback.answers import AnswerProblem
from cxm.feedback.models import Question

SCORED = frozenset({"nps", "csat", "ces", "rating"})
# "10 - Extremely likely", "4 (Satisfied)": exports with choice text put the number first.
LEADING_NUMBER = re.compile(r"^\s*(-?\d+)(?:\s*[-:(.)]|\s*$)")
UTC_NAMES = frozenset({"z", "utc", "gmt", "etc/utc"})


class CellProblem(ValueError):
    """Why a cell cannot be read; the row is rejected with this reason."""


def time_zone(name: str | None) -> tzinfo | None:
    """A zone by IANA name (or Z/UTC); None when no name is given; InvalidInput when it is unknown."""
    if not name:
        return None
    if name.strip().lower() in UTC_NAMES:
        return UTC
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown time zone '{name}' (use an IANA name such as Europe/Prague)") from None


def timestamp(value: str | None, zone: tzinfo | None, time_format: str | None = None) -> datetime | None:
    """A cell's time as aware UTC: ISO 8601 (or `time_format`), read in `zone` when it has no zone of its own."""
    if not value or not value.strip():
        return None
    try:
        parsed = datetime.strptime(value.strip(), time_format) if time_format else datetime.fromisoformat(value.strip())
    except ValueError:
        raise CellProblem(f"'{value}' is not a date and time{f' like {time_format}' if time_format else ''}") from None
    if parsed.tzinfo is None:
        if zone is None:
            raise CellProblem(f"'{value}' has no time zone (add Z or +hh:mm, or give a timezone in the mapping)")
        parsed = parsed.replace(tzinfo=zone)
    return parsed.astimezone(UTC)


def language(value: str | None, offered: Sequence[str]) -> str | None:
    """A language code from a cell ("CS", "en-GB"): the survey's own code when its base language is offered."""
    if not value or not value.strip():
        return None
    code = value.strip().replace("_", "-").lower()
    base = code.split("-")[0]
    if code in offered:
        return code
    return base if base in offered else code[:16]


def identity(kind: str, value: str | None) -> customers_service.Key | None:
    """One normalised identity from a cell; None when empty; CellProblem when it is not valid."""
    if not value or not value.strip():
        return None
    try:
        return customers_service.normalise(kind, value)
    except InvalidInput as error:
        raise CellProblem(f"{kind}: {error.message}") from None


def answer(question: Question, cell: str | list[str] | None, choices: Mapping[str, str], separator: str) -> Any:
    """A cell (or, for split multi-choice columns, its chosen tokens) as an answer value; None when empty."""
    if cell is None or cell == "" or cell == []:
        return None
    if question.kind in SCORED:
        return _score(str(cell), choices)
    if question.kind == "single_choice":
        return option(question, str(cell), choices)
    if question.kind == "multi_choice":
        tokens = cell if isinstance(cell, list) else [t for t in str(cell).split(separator) if t.strip()]
        return [option(question, token, choices) for token in tokens]
    return str(cell)


def _score(cell: str, choices: Mapping[str, str]) -> int:
    mapped = choices.get(cell.strip(), cell)
    match = LEADING_NUMBER.match(str(mapped))
    if match is None:
        raise AnswerProblem(f"'{cell}' is not a score")
    return int(match.group(1))


def option(question: Question, token: str, choices: Mapping[str, str]) -> str:
    """The option a file's value names: by the mapping, the option's value or label, or its 1-based number."""
    token = token.strip()
    if token in choices:
        return choices[token]
    wanted = token.casefold()
    for entry in question.options:
        labels = [str(entry["value"]), *entry.get("label", {}).values()]
        if any(wanted == label.casefold() for label in labels):
            return str(entry["value"])
    if token.isdigit() and 1 <= int(token) <= len(question.options):
        return str(question.options[int(token) - 1]["value"])  # Qualtrics' default recode values: 1, 2, 3, ...
    raise AnswerProblem(f"'{token}' is not one of the options")


def truthy(value: str | None, default: bool = True) -> bool:
    """A yes/no cell: 1/0, true/false, yes/no; `default` when empty."""
    if value is None or not value.strip():
        return default
    text = value.strip().lower()
    if text in ("1", "true", "yes", "y"):
        return True
    if text in ("0", "false", "no", "n"):
        return False
    raise CellProblem(f"'{value}' is not 1/0, true/false or yes/no")
