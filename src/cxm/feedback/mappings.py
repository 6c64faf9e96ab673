"""The mapping file of a response import: which column of the file holds what."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, ValidationError

from cxm.core.errors import InvalidInput
from cxm.core.schemas import Schema
from cxm.feedback.ingest import IncomingResponse

# Reads one row (column -> cell) into a response; raises CellProblem or AnswerProblem.
Converter = Callable[[dict[str, str]], IncomingResponse]


class ResponseMapping(Schema):
    """Which column of a response file holds what (see the module docstring)."""

    survey: str | None = None
    response_id: str | None = None
    identities: dict[str, str] = Field(default_factory=dict)
    name: str | None = None
    language: str | None = None
    started_at: str | None = None
    completed_at: str | None = None
    finished: str | None = None
    timezone: str | None = None
    time_format: str | None = None
    channel: str = Field(default="import", min_length=1, max_length=20)
    separator: str = Field(default=",", min_length=1, max_length=5)
    questions: dict[str, str] = Field(default_factory=dict)
    choices: dict[str, dict[str, str | int]] = Field(default_factory=dict)

    def choices_of(self, key: str) -> dict[str, str]:
        """The file-value -> option (or score) table of one question."""
        return {str(given): str(meant) for given, meant in self.choices.get(key, {}).items()}


def load_mapping(path: Path) -> ResponseMapping:
    """A mapping file (YAML or JSON), checked."""
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise InvalidInput(f"cannot read the mapping file {path}: {error.strerror}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise InvalidInput(f"{path.name} is not valid YAML: {error}") from None
    try:
        return ResponseMapping.model_validate(data or {})
    except ValidationError as error:
        first = error.errors()[0]
        raise InvalidInput(f"{path.name}: {'.'.join(map(str, first['loc'])) or 'mapping'}: {first['msg']}") from None
