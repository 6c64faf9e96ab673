"""Rows another domain chose, for the comment and choice filters: text analysis says which comments are negative or
about a theme, and feedback lists or counts only those without knowing how that was found."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cxm.customers import service as customers_service
from cxm.interactions import service as interactions_service


@dataclass(frozen=True)
class Selection:
    """A SQL selection of keys (response ids, or (response id, question id) pairs); `outside`: every row but those."""

    keys: Any
    outside: bool = False

    def condition(self, column: Any) -> Any:
        """Where `column` (or a tuple of columns) is among the keys, or not when `outside`."""
        return column.not_in(self.keys) if self.outside else column.in_(self.keys)


@dataclass(frozen=True)
class Respondents:
    """Which responses by where they came from and who gave them: the channel, journey stage and store of the
    interaction that triggered the survey, the customer's segment and one attribute (`("tier", "gold")`)."""

    channel: str | None = None
    journey_stage: str | None = None
    store: str | None = None
    segment: str | None = None
    attribute: tuple[str, str] | None = None

    def conditions(self, interaction_id: Any, customer_id: Any) -> list[Any]:
        """Conditions on a response's triggering interaction and customer columns (none when nothing is set)."""
        found = []
        if self.channel or self.journey_stage or self.store:
            where = interactions_service.interactions_where(
                channel=self.channel, stage=self.journey_stage, store=self.store
            )
            found.append(interaction_id.in_(where))
        if self.segment:
            found.append(customer_id.in_(customers_service.customers_in_segment(self.segment)))
        if self.attribute:
            found.append(customer_id.in_(customers_service.customers_with_attribute(*self.attribute)))
        return found
