"""The demo's survey responses: template surveys, linked touchpoints, scores that follow experience, consent."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from cxm import demo
from cxm.core.db import make_sessionmaker
from cxm.demo import feedback
from tests.conftest import _empty as empty

SIZE = {"customers": 800, "interactions": 16_000}
TROUBLE = "type IN ('complaint', 'return', 'return_request', 'delivery_failed') OR text LIKE '%damaged%'"


def rows(session: Session, sql: str) -> list[tuple[Any, ...]]:
    """The rows of a query, as tuples."""
    return [tuple(row) for row in session.execute(text(sql))]


def moment(value: datetime | str) -> datetime:
    """A timestamp as read by raw SQL (SQLite gives text)."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


@pytest.fixture(scope="module")
def company(engine: Engine) -> Iterator[demo.DemoSummary]:
    """A mid-sized demo company, generated once for this module's tests and removed after them."""
    with make_sessionmaker(engine)() as session, session.begin():
        summary = demo.generate(session, **SIZE)
    yield summary
    empty(engine)


@pytest.fixture
def reader(engine: Engine) -> Iterator[Session]:
    """A session on the stored company."""
    with make_sessionmaker(engine)() as session:
        yield session


def scores(session: Session, question: str) -> list[tuple[int, datetime, int]]:
    """(customer, completed at, score) of every answer to a question key."""
    found = rows(
        session,
        "SELECT r.customer_id, r.completed_at, a.score FROM answers a JOIN questions q ON q.id = a.question_id"
        f" JOIN responses r ON r.id = a.response_id WHERE q.key = '{question}'",
    )
    return [(customer, moment(at), score) for customer, at, score in found]


def test_the_three_template_surveys_get_responses_in_every_language(reader: Session, company: demo.DemoSummary) -> None:
    per_survey = dict(
        rows(reader, "SELECT s.key, count(r.id) FROM surveys s JOIN responses r ON r.survey_id = s.id GROUP BY s.key")
    )
    assert set(per_survey) == {"relationship-nps", "purchase-csat", "support-ces"}
    assert all(count >= 30 for count in per_survey.values()), per_survey
    assert company.surveys == 3 and company.responses == sum(per_survey.values())
    assert {language for (language,) in rows(reader, "SELECT DISTINCT language FROM responses")} == {
        "cs",
        "pl",
        "hr",
        "ro",
        "en",
    }
    assert "3 surveys with" in company.describe()
    unlinked = rows(reader, "SELECT count(*) FROM responses WHERE customer_id IS NULL OR status <> 'complete'")
    assert unlinked == [(0,)]


def test_transactional_responses_are_linked_to_the_touchpoint_that_prompted_them(
    reader: Session, company: demo.DemoSummary
) -> None:
    linked = rows(
        reader,
        "SELECT s.key, i.type, i.channel, r.customer_id = i.customer_id, r.completed_at, i.occurred_at"
        " FROM responses r JOIN surveys s ON s.id = r.survey_id JOIN interactions i ON i.id = r.interaction_id",
    )
    kinds = defaultdict(set)
    for key, kind, channel, same_customer, completed, occurred in linked:
        kinds[key].add((kind, channel) if key == "support-ces" else kind)
        assert same_customer and moment(completed) > moment(occurred)
    assert kinds["purchase-csat"] <= {"checkout", "purchase", "phone_order"} and kinds["purchase-csat"]
    assert {channel for _, channel in kinds["support-ces"]} <= {"phone", "chat", "email"}
    assert "relationship-nps" not in kinds


def test_trouble_before_a_survey_makes_detractors_and_low_scores_more_frequent(
    reader: Session, company: demo.DemoSummary
) -> None:
    troubled: dict[int, list[datetime]] = defaultdict(list)
    for customer, at in rows(reader, f"SELECT customer_id, occurred_at FROM interactions WHERE {TROUBLE}"):
        troubled[customer].append(moment(at))

    def had_trouble(customer: int, at: datetime) -> bool:
        return any(at - timedelta(days=180) <= when <= at for when in troubled[customer])

    # Low: a detractor (NPS 0-6), or not satisfied (CSAT 1-3; since troubled customers often leave, 1-2 alone is rare).
    for question, low in (("nps", 6), ("csat", 3)):
        groups: dict[bool, list[bool]] = {True: [], False: []}
        for customer, at, score in scores(reader, question):
            groups[had_trouble(customer, at)].append(score <= low)
        share = {key: sum(values) / len(values) for key, values in groups.items()}
        assert len(groups[True]) >= 10, (question, {k: len(v) for k, v in groups.items()})
        assert share[True] > 2 * share[False], (question, share)


def test_comments_are_varied_and_in_the_customers_language(reader: Session, company: demo.DemoSummary) -> None:
    comments = rows(
        reader,
        "SELECT r.language, a.text FROM answers a JOIN responses r ON r.id = a.response_id WHERE a.text IS NOT NULL",
    )
    texts = [comment for _, comment in comments]
    assert len(texts) > 100 and len(set(texts)) > 0.8 * len(texts)
    marks = {"cs": "ěščřžůý", "pl": "ąęłńśźż", "ro": "ăâîșț", "hr": "čćđšž"}
    for language, letters in marks.items():
        written = [comment for lang, comment in comments if lang == language]
        with_marks = [comment for comment in written if any(letter in comment for letter in letters)]
        assert written and len(with_marks) > 0.5 * len(written), language


def test_customers_who_revoked_survey_consent_gave_no_responses(reader: Session, company: demo.DemoSummary) -> None:
    newest = rows(
        reader,
        "SELECT c.customer_id, c.granted FROM consents c WHERE c.purpose = 'surveys' ORDER BY c.recorded_at, c.id",
    )
    state = dict(newest)  # the newest decision per customer wins
    revoked = {customer for customer, granted in state.items() if not granted}
    answered = {customer for (customer,) in rows(reader, "SELECT DISTINCT customer_id FROM responses")}
    assert revoked and not revoked & answered


def drawn(seed: int) -> list[tuple[str, str, Any]]:
    """The responses the demo draws for a seed: survey, when, answers."""
    rng = random.Random(seed)
    people = demo.draw_people(rng, 100)
    events = demo.draw_events(rng, people, 2000)
    found = feedback.Feedback(random.Random(f"{seed}:feedback"), demo.ANCHOR).draw(people, events)
    return [(d.survey, d.at.isoformat(), d.answers) for d in found]


def test_same_seed_same_responses() -> None:
    assert drawn(42) == drawn(42) != drawn(7)
    assert drawn(42)
