"""The query parameters the analytics routes share: dimension filters and moments."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Query, Request
from pydantic import BeforeValidator

from cxm.analytics.attributes import is_attribute
from cxm.analytics.dimensions import read_moment, utc_moment
from cxm.core.api import reads_prefixed
from cxm.core.errors import InvalidInput

Values = Annotated[list[str] | None, Query()]


def _moment(value: object) -> datetime | None:
    """A query's time read as the library reads it (pydantic alone took `20260915` for seconds since 1970); one
    without a zone stays so, for the query to read in its time zone."""
    try:
        utc_moment(value, "time")  # out of range even in UTC: refused here
        return read_moment(value, "time")
    except InvalidInput as error:
        raise ValueError(str(error)) from None


# A moment in any zone, or a date or time without one (the query's `tz`): `2026-03-01`, `2026-03-01T08:00:00+01:00`.
Moment = Annotated[
    datetime | None, BeforeValidator(_moment), Query(description="ISO 8601; without a zone, in the query's `tz`")
]


@reads_prefixed("attr.")
def metric_filters(
    request: Request,
    channel: Values = None,
    journey_stage: Values = None,
    store: Values = None,
    agent: Values = None,
    segment: Values = None,
    country: Values = None,
    language: Values = None,
    customer_language: Values = None,
    question: Values = None,
    collected_via: Annotated[list[str] | None, Query(description="The channel a response was given through")] = None,
    interaction_type: Annotated[
        list[str] | None, Query(alias="type", description="Response times: the interaction's type")
    ] = None,
    sent_via: Annotated[list[str] | None, Query(description="Response rate: the invitation's channel")] = None,
    sentiment: Annotated[list[str] | None, Query(description="Sentiment of the response's comments")] = None,
    theme: Annotated[list[str] | None, Query(description="A theme (name) of the response's comments")] = None,
    theme_id: Annotated[list[str] | None, Query(description="A theme (id) of the response's comments")] = None,
) -> dict[str, list[str] | None]:
    """The dimension filters of a request (`?channel=web&store=Brno&segment=retail&theme=delivery&attr.tier=gold`;
    `(none)`: no value); a filter the metric cannot take is refused by the metric."""
    filters = {"channel": channel, "journey_stage": journey_stage, "store": store, "agent": agent}
    filters |= {"segment": segment, "country": country, "language": language, "customer_language": customer_language}
    filters |= {"question": question, "collected_via": collected_via, "type": interaction_type, "sent_via": sent_via}
    attributes = {name: request.query_params.getlist(name) for name in request.query_params if is_attribute(name)}
    return filters | {"sentiment": sentiment, "theme": theme, "theme_id": theme_id} | attributes


Filters = Annotated[dict[str, list[str] | None], Depends(metric_filters)]
