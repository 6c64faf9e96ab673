"""Checking answers against a survey's questions: scales, options, required questions, display logic."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cxm.core.errors import InvalidInput
from cxm.feedback.definitions import holds
from cxm.feedback.models import Question

MAX_TEXT = 10_000
SCORED = frozenset({"nps", "csat", "ces", "rating"})


class AnswerProblem(ValueError):
    """Why one answer cannot be stored: an English message template (a gettext id) and its values."""

    def __init__(self, template: str, **values: Any) -> None:
        super().__init__(template.format(**values))
        self.template = template
        self.values = values


def checked_answers(questions: Sequence[Question], given: Mapping[str, Any], *, complete: bool) -> dict[str, Any]:
    """The answers to store, keyed by question; hidden questions' answers are dropped.

    Raises InvalidInput listing every problem (unknown question, out-of-range score, unknown option,
    missing required answer when `complete`).
    """
    known = {question.key for question in questions}
    problems = [{"question": key, "reason": "no such question in this survey"} for key in given if key not in known]
    kept: dict[str, Any] = {}
    for question in questions:
        if not _shown(question, kept):
            continue
        try:
            value = answer_value(question, given.get(question.key))
        except AnswerProblem as problem:
            problems.append({"question": question.key, "reason": str(problem)})
            continue
        if value is not None:
            kept[question.key] = value
        elif complete and question.required:
            problems.append({"question": question.key, "reason": "an answer is required"})
    if problems:
        raise InvalidInput("some answers cannot be accepted", details=problems)
    return kept


def _shown(question: Question, earlier: Mapping[str, Any]) -> bool:
    condition = question.show_if
    return not condition or holds(condition, earlier.get(condition["question"]))


def answer_value(question: Question, raw: Any) -> Any:
    """One answer in its stored form (None = not answered); raises AnswerProblem when it is invalid."""
    if raw is None or raw == "" or raw == []:
        return None
    if question.kind in SCORED:
        return _score(question, raw)
    if question.kind == "single_choice":
        return _choice(question, raw)
    if question.kind == "multi_choice":
        return _choices(question, raw)
    return _text(raw)


def _score(question: Question, raw: Any) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise AnswerProblem("the answer must be a whole number")
    try:
        score = int(raw)
    except ValueError:
        raise AnswerProblem("the answer must be a whole number") from None
    low, high = question.scale_min or 0, question.scale_max or 0
    if not low <= score <= high:
        raise AnswerProblem("the score must be between {low} and {high}", low=low, high=high)
    return score


def _option_values(question: Question) -> list[str]:
    return [str(option["value"]) for option in question.options]


def _choice(question: Question, raw: Any) -> str:
    if not isinstance(raw, str) or raw not in _option_values(question):
        raise AnswerProblem("'{value}' is not one of the options", value=raw)
    return raw


def _choices(question: Question, raw: Any) -> list[str]:
    values = [raw] if isinstance(raw, str) else raw
    if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
        raise AnswerProblem("the answer must be a list of options")
    unknown = [value for value in values if value not in _option_values(question)]
    if unknown:
        raise AnswerProblem("'{value}' is not one of the options", value=unknown[0])
    return [value for value in _option_values(question) if value in values]


def _text(raw: Any) -> str | None:
    if not isinstance(raw, str):
        raise AnswerProblem("the answer must be text")
    if len(raw) > MAX_TEXT:
        raise AnswerProblem("the text is longer than {limit} characters", limit=MAX_TEXT)
    return raw.strip() or None
