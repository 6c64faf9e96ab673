"""How often each option of the choice questions was chosen: counts and shares of the people who answered."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from cxm.customers import service as customers_service
from cxm.feedback.definitions import translated
from cxm.feedback.models import Answer, Question, QuestionKind, Response, ResponseStatus, Survey
from cxm.feedback.selections import Respondents, Selection

CHOICE_KINDS = (QuestionKind.single_choice, QuestionKind.multi_choice)


@dataclass(frozen=True)
class ChoiceFilter:
    """Which answers to count: like the score distributions (channel, stage and store of the triggering interaction)."""

    survey_key: str | None = None
    language: str | None = None
    who: Respondents = field(default_factory=Respondents)
    since: datetime | None = None
    until: datetime | None = None
    # The responses other domains chose (what text analysis found in their comments: a sentiment, a theme).
    said: tuple[Selection, ...] = ()


@dataclass(frozen=True)
class OptionCount:
    """One option: how many respondents chose it, as a share of those who answered the question (0-100)."""

    value: str
    label: str
    count: int
    share: float


@dataclass(frozen=True)
class ChoiceDistribution:
    """A choice question's answers: n respondents, and each option (multi-choice shares may sum above 100)."""

    survey: str
    question: str
    kind: str
    n: int
    options: list[OptionCount]


def _conditions(wanted: ChoiceFilter) -> list[Any]:
    found: dict[str, Callable[[Any], Any]] = {
        "survey_key": lambda v: Survey.key == v,
        "language": lambda v: Response.language == v,
        "since": lambda v: Response.completed_at >= v,
        "until": lambda v: Response.completed_at < v,
    }
    chosen = [condition(getattr(wanted, name)) for name, condition in found.items() if getattr(wanted, name)]
    who = wanted.who.conditions(Response.interaction_id, Response.customer_id)
    return [*chosen, *who, *(selection.condition(Response.id) for selection in wanted.said)]


@dataclass
class _Tally:
    """Respondents and chosen options of one question, counted as the answers are read."""

    question: Question
    survey: str
    language: str
    default_language: str
    chosen: Counter[str] = field(default_factory=Counter)
    n: int = 0


def choice_distributions(
    session: Session, wanted: ChoiceFilter, *, labels_in: str | None = None
) -> list[ChoiceDistribution]:
    """Every choice question with answers under the filter, by survey and position, each option counted and
    labelled in `labels_in` where the survey has that translation (else its default language); erased people's
    anonymised answers are left out, as in every other figure."""
    rows = session.execute(_answers(wanted)).all()  # plain columns: a question object per answer cost ~10x the time
    questions = {q.id: q for q in session.scalars(select(Question).where(Question.id.in_({row[0] for row in rows})))}
    tallies: dict[int, _Tally] = {}
    for question_id, survey, default, choices in rows:
        tally = tallies.setdefault(question_id, _Tally(questions[question_id], survey, labels_in or default, default))
        if choices:  # an empty multi-choice answer chose nothing: not a respondent of the question
            tally.chosen.update(set(choices))
            tally.n += 1
    ordered = sorted(tallies.values(), key=lambda tally: (tally.survey, tally.question.position))
    return [_distribution(tally) for tally in ordered if tally.n]


def _answers(wanted: ChoiceFilter) -> Select[int, str, str, list[str] | None]:
    """Completed answers to choice questions under the filter, erased people's left out: question id, survey key,
    the survey's default language and the chosen values."""
    kept = or_(Response.customer_id.is_(None), Response.customer_id.not_in(customers_service.erased_customers()))
    return (
        select(Answer.question_id, Survey.key, Survey.default_language, Answer.choices)
        .join(Question, Answer.question_id == Question.id)
        .join(Response, Response.id == Answer.response_id)
        .join(Survey, Survey.id == Response.survey_id)
        .where(Question.kind.in_(list(CHOICE_KINDS)), Response.status == ResponseStatus.complete, kept)
        .where(*_conditions(wanted))
    )


def _distribution(tally: _Tally) -> ChoiceDistribution:
    """Options in the definition's order (then any no longer defined), labelled in the tally's language."""
    question, language, chosen = tally.question, tally.language, tally.chosen
    labels = {
        str(o["value"]): translated(o, "label", language, tally.default_language) or str(o["value"])
        for o in question.options
    }
    values = [*labels, *sorted(set(chosen) - set(labels))]
    options = [OptionCount(v, labels.get(v, v), chosen[v], 100 * chosen[v] / tally.n) for v in values]
    return ChoiceDistribution(tally.survey, question.key, question.kind, tally.n, options)
