"""The survey pages' own words: every text translated in every language; language choice; steps."""

from __future__ import annotations

import ast
import inspect

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from cxm.feedback import answers
from cxm.feedback.answers import AnswerProblem
from cxm.feedback.models import Question
from cxm.feedback.steps import progress, resume_step, steps_of
from cxm.feedback.translations import (
    LOCALES,
    PAGES,
    REQUIRED,
    accepted_languages,
    page_language,
    problem_text,
    ui_languages,
)


def page_message_ids() -> set[str]:
    """Every text the templates translate, and every answer problem the pages show."""
    found = extract_from_dir(PAGES, method_map=[("*.html", "jinja2.ext:babel_extract")])
    ids = {message if isinstance(message, str) else message[0] for _, _, message, _, _ in found}
    calls = ast.walk(ast.parse(inspect.getsource(answers)))
    problems = {
        node.args[0].value
        for node in calls
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "AnswerProblem"
        if isinstance(node.args[0], ast.Constant)
    }
    return ids | problems | {REQUIRED}


def test_the_pages_speak_five_languages() -> None:
    assert ui_languages() == ["cs", "en", "hr", "pl", "ro"]


@pytest.mark.parametrize("language", ["en", "cs", "pl", "hr", "ro"])
def test_every_page_text_is_translated(language: str) -> None:
    with (LOCALES / language / "LC_MESSAGES" / "cxm.po").open("rb") as source:
        catalog = read_po(source)
    translated = {message.id: message.string for message in catalog if message.id}
    wanted = page_message_ids()
    assert len(wanted) > 25 and set(translated) == wanted
    assert all(text.strip() for text in translated.values())
    assert not any(message.fuzzy for message in catalog if message.id)


def test_answer_problems_read_in_the_page_language() -> None:
    problem = AnswerProblem("the score must be between {low} and {high}", low=0, high=10)
    assert str(problem) == "the score must be between 0 and 10"
    assert problem_text(problem, "cs") == "Hodnocení musí být mezi 0 a 10."
    assert problem_text(problem, "de") == "the score must be between 0 and 10"


def test_accept_language_is_read_by_weight() -> None:
    assert accepted_languages("de-DE, pl;q=0.8, hr;q=0.9, *;q=0.1, en;q=0") == ["de-DE", "hr", "pl"]
    assert accepted_languages(None) == [] and accepted_languages("pl;q=nonsense") == []


@pytest.mark.parametrize(
    ("chosen", "customer", "accept", "language"),
    [
        ("ro", "cs", "pl", "ro"),
        (None, "cs-CZ", "pl", "cs"),
        ("xx", "de", "pl-PL,en;q=0.5", "pl"),
        (None, None, "de, fr", "en"),
    ],
)
def test_page_language_order(chosen: str | None, customer: str | None, accept: str, language: str) -> None:
    assert page_language(["en", "cs", "pl", "ro"], "en", chosen=chosen, customer=customer, accept=accept) == language


def question(key: str, show_if: dict[str, object] | None = None) -> Question:
    """A question that only has what the steps look at."""
    return Question(key=key, kind="nps", required=False, show_if=show_if or {})


def test_a_condition_on_the_current_step_starts_the_next_one() -> None:
    low = {"question": "nps", "op": "<=", "value": 6}
    questions = [question("nps"), question("reason"), question("improve", low), question("price", low)]
    steps = steps_of(questions)
    assert [[q.key for q in step] for step in steps] == [["nps", "reason"], ["improve", "price"]]
    assert progress(steps, {}, 0) == (1, 2)
    assert progress(steps, {"nps": 9}, 0) == (1, 2)  # the score may still change on this step
    assert progress(steps, {"nps": 3}, 1) == (2, 2)
    assert resume_step(steps, {}) == 0 and resume_step(steps, {"nps": 3}) == 1 and resume_step(steps, {"nps": 9}) == 0
