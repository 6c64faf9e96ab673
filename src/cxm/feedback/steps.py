"""A survey split into page steps, so display logic works without JavaScript.

A step holds the next run of questions whose display conditions look only at questions of earlier steps: once
those are answered and saved, the server knows which questions of the step to show.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cxm.feedback.definitions import holds
from cxm.feedback.models import Question

Step = list[Question]


def steps_of(questions: Sequence[Question]) -> list[Step]:
    """The survey's questions in steps: a question whose condition looks at the current step starts a new one."""
    steps: list[Step] = []
    current: Step = []
    for question in questions:
        if question.show_if and question.show_if["question"] in {q.key for q in current}:
            steps.append(current)
            current = []
        current.append(question)
    if current:
        steps.append(current)
    return steps


def _shows(question: Question, answers: Mapping[str, Any]) -> bool:
    condition = question.show_if
    return not condition or holds(condition, answers.get(condition["question"]))


def shown(step: Step, answers: Mapping[str, Any]) -> Step:
    """The questions of a step shown, given the answers of earlier steps."""
    return [question for question in step if _shows(question, answers)]


def next_step(steps: Sequence[Step], answers: Mapping[str, Any], after: int) -> int | None:
    """The first step after `after` with a question to show; None when the survey is done."""
    return next((index for index in range(after + 1, len(steps)) if shown(steps[index], answers)), None)


def previous_step(steps: Sequence[Step], answers: Mapping[str, Any], before: int) -> int | None:
    """The last step before `before` with a question to show."""
    return next((index for index in range(before - 1, -1, -1) if shown(steps[index], answers)), None)


def resume_step(steps: Sequence[Step], answers: Mapping[str, Any]) -> int:
    """Where a person coming back continues: the step after the last one they answered something on."""
    answered = [index for index, step in enumerate(steps) if any(q.key in answers for q in shown(step, answers))]
    if not answered:
        return next_step(steps, answers, -1) or 0
    following = next_step(steps, answers, answered[-1])
    return answered[-1] if following is None else following


def missing_step(steps: Sequence[Step], answers: Mapping[str, Any]) -> int | None:
    """The first step with a required question shown but not answered."""
    for index, step in enumerate(steps):
        if any(q.required and q.key not in answers for q in shown(step, answers)):
            return index
    return None


def progress(steps: Sequence[Step], answers: Mapping[str, Any], current: int) -> tuple[int, int]:
    """(position, total) of the current step among the steps shown or still possible."""
    keys_from_here = {q.key for step in steps[current:] for q in step}
    counted = [
        index
        for index, step in enumerate(steps)
        if shown(step, answers)
        or (index > current and any(q.show_if["question"] in keys_from_here for q in step if q.show_if))
    ]
    return counted.index(current) + 1 if current in counted else 1, len(counted)
