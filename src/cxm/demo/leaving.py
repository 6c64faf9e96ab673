"""Customers who leave: after a bad experience (a complaint, a question nobody answered) some stop buying.

This is the demo's churn signal. Each bad experience makes the person leave with fixed odds, a few days later;
every touchpoint of theirs after that is dropped. The draw is fixed by the person and the moment, so the same
events always give the same departures, whatever order they were drawn in.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta

from cxm.demo.journeys import RESPONSE, Event

ODDS = {"unanswered complaint": 0.9, "unanswered question": 0.6, "complaint": 0.4}


def bad_experience(event: Event) -> str | None:
    """What went wrong at a touchpoint, if anything the customer would leave over."""
    values = event.values
    if values["direction"] != "inbound" or values["journey_stage"] != "post_purchase":
        return None
    complaint = values["type"] == "complaint" or values["attributes"].get("topic") == "complaint"
    unanswered = values["channel"] in RESPONSE and values["responded_at"] is None
    if complaint:
        return "unanswered complaint" if unanswered else "complaint"
    return "unanswered question" if unanswered else None


def departures(events: Sequence[Event]) -> dict[int, datetime]:
    """When each leaving person (by index) leaves: a few days after the first bad experience they leave over."""
    leaving: dict[int, datetime] = {}
    for event in sorted(events, key=lambda e: e.at):
        person, what = event.person, bad_experience(event)
        if person is None or what is None or person.index in leaving:
            continue
        coin = random.Random(f"leave:{person.index}:{event.at.isoformat()}")
        if coin.random() < ODDS[what]:
            leaving[person.index] = event.at + timedelta(days=coin.uniform(1, 14))
    return leaving


def staying(events: Sequence[Event]) -> list[Event]:
    """The events, without those of people who had already left (in the order given)."""
    leaving = departures(events)
    return [e for e in events if e.person is None or e.person.index not in leaving or e.at <= leaving[e.person.index]]
