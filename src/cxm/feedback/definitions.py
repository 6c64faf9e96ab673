"""Rules a survey definition must follow, and display logic evaluated against answers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from babel import Locale, UnknownLocaleError

if TYPE_CHECKING:
    from cxm.feedback.schemas import Condition, QuestionDef, SurveyCreate

CONDITIONAL_KINDS = frozenset({"nps", "csat", "ces", "rating", "single_choice", "multi_choice"})


def check_definition(survey: SurveyCreate) -> None:
    """Raise ValueError naming the first thing wrong with a survey definition."""
    _check_languages(survey.languages, survey.default_language)
    texts = {"title": survey.title, "thank_you": survey.thank_you, "intro": survey.intro}
    _check_translated(texts, survey.languages, "survey")
    seen: dict[str, QuestionDef] = {}
    for question in survey.questions:
        if question.key in seen:
            raise ValueError(f"question key '{question.key}' is used twice")
        _check_question(question, survey.languages, seen)
        seen[question.key] = question


def _check_languages(languages: list[str], default: str) -> None:
    for code in languages:
        try:
            Locale.parse(code.replace("-", "_"))
        except (ValueError, UnknownLocaleError):
            raise ValueError(f"'{code}' is not a language code") from None
    if len(set(languages)) != len(languages):
        raise ValueError("languages repeat")
    if default not in languages:
        raise ValueError(f"default_language '{default}' is not one of languages {languages}")


def _check_translated(texts: Mapping[str, Mapping[str, str] | None], languages: list[str], where: str) -> None:
    for name, translated in texts.items():
        if translated is None:
            continue
        missing = [code for code in languages if not (translated.get(code) or "").strip()]
        if missing:
            raise ValueError(f"{where}: '{name}' has no text in {', '.join(missing)}")


def _check_question(question: QuestionDef, languages: list[str], earlier: dict[str, QuestionDef]) -> None:
    where = f"question '{question.key}'"
    texts = {"label": question.label, "help": question.help, "low": question.low, "high": question.high}
    _check_translated(texts, languages, where)
    for option in question.options:
        _check_translated({f"option '{option.value}'": option.label}, languages, where)
    if question.show_if is not None:
        _check_condition(question.show_if, earlier, where)


def _check_condition(condition: Condition, earlier: dict[str, QuestionDef], where: str) -> None:
    target = earlier.get(condition.question)
    if target is None:
        raise ValueError(f"{where}: show_if refers to '{condition.question}', which is not an earlier question")
    if target.kind not in CONDITIONAL_KINDS:
        raise ValueError(f"{where}: show_if cannot depend on a {target.kind} question")
    wanted = condition.value if isinstance(condition.value, list) else [condition.value]
    if (condition.op == "in") != isinstance(condition.value, list):
        raise ValueError(f"{where}: 'in' takes a list of values, the other operators one value")
    if target.kind in ("single_choice", "multi_choice"):
        known = {option.value for option in target.options}
        if condition.op not in ("==", "!=", "in") or not set(map(str, wanted)) <= known:
            raise ValueError(f"{where}: a choice condition compares with ==, != or in against the options")
    elif not all(isinstance(value, int) for value in wanted):
        raise ValueError(f"{where}: a score condition compares with whole numbers")


def holds(condition: Mapping[str, Any], answer: Any) -> bool:
    """Whether an earlier answer satisfies a display condition (an unanswered question satisfies none)."""
    if answer is None:
        return False
    op, value = condition["op"], condition["value"]
    if isinstance(answer, list):  # multi choice: the condition holds for any chosen option
        return any(holds(condition, one) for one in answer)
    if op == "in":
        return answer in value
    comparisons = {
        "<=": lambda: answer <= value,
        "<": lambda: answer < value,
        ">=": lambda: answer >= value,
        ">": lambda: answer > value,
        "==": lambda: answer == value,
        "!=": lambda: answer != value,
    }
    return bool(comparisons[op]())


def visible_keys(questions: Iterable[Any], answers: Mapping[str, Any]) -> list[str]:
    """Keys of the questions shown, in order, given the answers so far."""
    shown = []
    for question in questions:
        if not question.show_if or holds(question.show_if, answers.get(question.show_if["question"])):
            shown.append(question.key)
    return shown


def translated(texts: Mapping[str, Any], name: str, language: str, fallback: str) -> str | None:
    """One text in a language, else in the fallback language."""
    values = texts.get(name) or {}
    return values.get(language) or values.get(fallback)
