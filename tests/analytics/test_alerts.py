"""Latest significant changes: planted changes are found, chance among many groups is not (Benjamini-Hochberg)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine as SqlEngine
from sqlalchemy.orm import Session

from cxm.analytics import service
from cxm.analytics.alerts import adjusted
from cxm.analytics.engines import Engine, open_engine
from cxm.analytics.sync import sync
from cxm.core.db import make_sessionmaker
from cxm.customers.models import Customer
from cxm.feedback import service as feedback_service
from cxm.feedback.models import Answer, Invitation, Response
from cxm.interactions.models import Interaction

SEPTEMBER, OCTOBER = datetime(2026, 9, 10, tzinfo=UTC), datetime(2026, 10, 10, tzinfo=UTC)
NOW = datetime(2026, 11, 15, tzinfo=UTC)
CHANNELS = [f"c{n:02d}" for n in range(20)]


def _answers(session: Session, survey_key: str, channel: str, when: datetime, scores: list[int]) -> None:
    """Completed answers to a template survey's main question, tied to one interaction in `channel`."""
    survey = feedback_service.get_survey(session, survey_key)
    question = feedback_service.questions_of(session, survey.id)[0]
    person = Customer(name=f"{channel} visitor", attributes={})
    session.add(person)
    session.flush()
    touch = Interaction(customer_id=person.id, channel=channel, direction="inbound", type="visit", occurred_at=when)
    session.add(touch)
    session.flush()
    for score in scores:
        response = Response(
            survey_id=survey.id,
            interaction_id=touch.id,
            language="en",
            channel="email",
            status="complete",
            started_at=when,
            completed_at=when,
            updated_at=when,
            attributes={},
        )
        session.add(response)
        session.flush()
        session.add(Answer(response_id=response.id, question_id=question.id, score=score))


def _invitations(session: Session, survey_key: str, when: datetime, sent: int, answered: int) -> None:
    survey = feedback_service.get_survey(session, survey_key)
    person = Customer(name="invited", attributes={})
    session.add(person)
    session.flush()
    for n in range(sent):
        at = when.replace(day=1 + n % 20)
        session.add(
            Invitation(
                survey_id=survey.id,
                customer_id=person.id,
                channel="email",
                key=f"{survey_key}-{when:%m}-{n}",
                status="sent",
                send_at=at,
                sent_at=at,
                answered_at=at if n < answered else None,
            )
        )


def _store(db: SqlEngine, folder: Path) -> Engine:
    sync(db, str(folder / "store.duckdb"))
    return open_engine(f"duckdb:///{folder / 'store.duckdb'}")


def test_a_chance_difference_among_many_groups_is_not_listed(db: SqlEngine, tmp_path: Path) -> None:
    """Twenty channels alike in both months, one of them 20 points lower in October by chance: p < 0.05 alone,
    not after the adjustment for the 21 groups tested (20 channels and the one journey stage)."""
    with make_sessionmaker(db)() as session, session.begin():
        feedback_service.install_templates(session)
        for channel in CHANNELS:
            _answers(session, "relationship-nps", channel, SEPTEMBER, [10] * 20 + [8] * 20)
            later = [10] * 10 + [8] * 30 if channel == "c07" else [10] * 20 + [8] * 20
            _answers(session, "relationship-nps", channel, OCTOBER, later)
    engine = _store(db, tmp_path)
    assert service.significant_changes(engine, now=NOW).empty
    tested = service.significant_changes(engine, now=NOW, alpha=1.01)  # every test, listed or not
    assert len(tested) == 21 and set(tested["metric"]) == {"nps"}
    chance = tested[tested["group"] == "c07"].iloc[0]
    assert chance["change"] == pytest.approx(-25) and chance["p_value"] < 0.05
    assert chance["p_adjusted"] == pytest.approx(chance["p_value"] * 21) and chance["p_adjusted"] > 0.05


def test_planted_changes_are_listed_with_the_response_rate(db: SqlEngine, tmp_path: Path) -> None:
    with make_sessionmaker(db)() as session, session.begin():
        feedback_service.install_templates(session)
        _answers(session, "purchase-csat", "web", SEPTEMBER, [5] * 40)
        _answers(session, "purchase-csat", "web", OCTOBER, [5] * 10 + [1] * 30)
        _answers(session, "purchase-csat", "store", SEPTEMBER, [5] * 40)
        _answers(session, "purchase-csat", "store", OCTOBER, [5] * 39 + [1])
        _invitations(session, "relationship-nps", SEPTEMBER, sent=100, answered=60)
        _invitations(session, "relationship-nps", OCTOBER, sent=100, answered=20)
    found = service.significant_changes(_store(db, tmp_path), now=NOW)
    listed = {(row.metric, row.dimension, row.group): row for row in found.itertuples()}
    assert set(listed) == {
        ("csat", "channel", "web"),
        ("csat", "journey_stage", "(none)"),
        ("response_rate", "survey", "relationship-nps"),
        ("response_rate", "sent_via", "email"),
    }
    web, rate = listed[("csat", "channel", "web")], listed[("response_rate", "survey", "relationship-nps")]
    assert web.change == pytest.approx(-75) and web.n == 40 and web.previous_n == 40 and web.direction == "drop"
    assert rate.change == pytest.approx(-40) and rate.n == 100 and rate.previous_n == 100
    assert (found["p_adjusted"] >= found["p_value"]).all() and (found["p_adjusted"] < 0.05).all()
    assert found["change"].abs().is_monotonic_decreasing
    assert service.significant_changes(_store(db, tmp_path), now=OCTOBER).empty  # September has no month before


def test_benjamini_hochberg_adjustment() -> None:
    assert adjusted([]) == []
    assert adjusted([0.01, 0.04, 0.03, 0.5]) == pytest.approx([0.04, 0.16 / 3, 0.16 / 3, 0.5])


def test_months_are_those_of_the_installation_time_zone(db: SqlEngine, tmp_path: Path) -> None:
    late = datetime(2026, 10, 31, 23, 30, tzinfo=UTC)  # already 1 November in Prague
    with make_sessionmaker(db)() as session, session.begin():
        feedback_service.install_templates(session)
        _answers(session, "purchase-csat", "web", SEPTEMBER, [5] * 40)
        _answers(session, "purchase-csat", "web", OCTOBER, [5] * 40)
        _answers(session, "purchase-csat", "web", late, [1] * 40)
    engine = _store(db, tmp_path)
    found = service.significant_changes(engine, now=NOW)  # UTC: the late answers fell in October
    web = found[(found["metric"] == "csat") & (found["group"] == "web")].iloc[0]
    assert web.n == 80 and web.change == pytest.approx(-50)
    engine.zone = "Europe/Prague"  # CXM_TIMEZONE: October there ended before them, and November is not over
    assert service.significant_changes(engine, now=NOW).empty
