"""Rows another domain chose, for the comment and choice filters: text analysis says which comments are negative or
about a theme, and feedback lists or counts only those without knowing how that was found."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Selection:
    """A SQL selection of keys (response ids, or (response id, question id) pairs); `outside`: every row but those."""

    keys: Any
    outside: bool = False

    def condition(self, column: Any) -> Any:
        """Where `column` (or a tuple of columns) is among the keys, or not when `outside`."""
        return column.not_in(self.keys) if self.outside else column.in_(self.keys)
