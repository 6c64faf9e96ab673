"""Built-in survey templates (relationship NPS, purchase CSAT, support CES) and survey files."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from cxm.core.errors import InvalidInput
from cxm.feedback.models import Survey
from cxm.feedback.schemas import SurveyCreate
from cxm.feedback.surveys import create_survey

TEMPLATES = resources.files("cxm.feedback") / "templates"


def template_names() -> list[str]:
    """The keys of the built-in templates."""
    return sorted(entry.name.removesuffix(".yaml") for entry in TEMPLATES.iterdir() if entry.name.endswith(".yaml"))


def load_template(name: str) -> SurveyCreate:
    """A built-in template as a survey definition."""
    if name not in template_names():
        raise InvalidInput(f"no template '{name}'", details={"templates": template_names()})
    return definition_from_text((TEMPLATES / f"{name}.yaml").read_text(encoding="utf-8"), f"{name}.yaml")


def definition_from_file(path: Path) -> SurveyCreate:
    """A survey definition read from a YAML or JSON file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InvalidInput(f"cannot read {path}: {error.strerror}") from None
    return definition_from_text(text, path.name)


def definition_from_text(text: str, source: str) -> SurveyCreate:
    """Parse and check a YAML (or JSON, which is YAML too) survey definition."""
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise InvalidInput(f"{source} is not valid YAML/JSON: {_where(error)}") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"{source} does not hold a survey definition (a mapping with key, name, questions, ...)")
    try:
        return SurveyCreate.model_validate(data)
    except ValidationError as error:
        details = [{"field": ".".join(map(str, e["loc"])), "reason": e["msg"]} for e in error.errors()]
        raise InvalidInput(f"{source}: {details[0]['field']}: {details[0]['reason']}", details=details) from None


def _where(error: yaml.YAMLError) -> str:
    """A YAML error in one line: what went wrong and where."""
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    return f"{problem} at line {mark.line + 1}, column {mark.column + 1}" if mark else str(problem)


def install_templates(session: Session) -> list[Survey]:
    """Create every built-in template survey that does not exist yet; the surveys."""
    surveys = []
    for name in template_names():
        definition = load_template(name)
        found = session.scalar(select(Survey).where(Survey.key == definition.key))
        surveys.append(found or create_survey(session, definition))
    return surveys
