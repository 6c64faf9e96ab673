"""The filter bar's sentiment and theme filters: they change the figures, offer the themes by id, stay in links."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from cxm.analytics import service as analytics_service
from cxm.core.db import make_sessionmaker
from cxm.feedback.models import Answer, Question, Response
from cxm.text import service as text_service
from cxm.text.models import TextSignal, TextTheme, ThemeModel
from tests.web.conftest import sign_in
from tests.web.pages_data import store_company

UNANALYSED = 5  # customers c0..c4 wrote nothing analysed
WRITTEN = datetime(2026, 9, 6, tzinfo=UTC)


def _mood(score: int) -> str:
    return "positive" if score >= 9 else "negative" if score <= 6 else "neutral"


def _answers() -> list[tuple[int, int]]:
    """(customer n, NPS) of every stored response, as `store_company` writes them."""
    return [(n, (n + month) % 11) for n in range(30) for month in (9, 10)]


def _analyse(db: Engine) -> int:
    """Sentiment from each score and the theme `delivery` on every third customer's comments, and what detractors
    would improve (price for odd customers, delivery for even ones); the theme's id."""
    with make_sessionmaker(db)() as session, session.begin():
        asked = {q.key: q.id for q in session.scalars(select(Question).where(Question.key.in_(["reason", "improve"])))}
        model = ThemeModel(active=True, texts=0, data=b"")
        session.add(model)
        session.flush()
        theme = TextTheme(model_id=model.id, name="delivery", terms=["delivery"])
        session.add(theme)
        session.flush()
        for response in session.scalars(select(Response)):
            _, person, month = str(response.external_id).split("-")  # r-{n}-{month}
            n, score = int(person), (int(person) + int(month)) % 11
            if score <= 6:
                chosen = ["price"] if n % 2 else ["delivery"]
                session.add(Answer(response_id=response.id, question_id=asked["improve"], choices=chosen))
            if n < UNANALYSED:
                continue
            base = {
                "source": "response",
                "source_id": response.id,
                "question_id": asked["reason"],
                "customer_id": response.customer_id,
                "text_hash": str(response.id),
                "model": "test",
                "written_at": WRITTEN,
            }
            session.add(TextSignal(kind="sentiment", label=_mood(score), value=0.0, **base))
            if n % 3 == 0:
                session.add(TextSignal(kind="theme", label=str(theme.id), value=0.5, theme_id=theme.id, **base))
        return int(theme.id)


@pytest.fixture
def analysed(client: TestClient, admin_headers: dict[str, str], people: dict[str, str], db: Engine) -> int:
    """The page-test company with analysed comments, synced; the id of its one theme."""
    store_company(client, admin_headers)
    theme_id = _analyse(db)
    app = client.app
    analytics_service.sync_store(app.state.settings, app.state.engine)  # type: ignore[attr-defined]
    sign_in(client, people["viewer"])
    return theme_id


def _nps_n(client: TestClient, query: str) -> int:
    page = client.get(f"/overview?{query}")
    assert page.status_code == 200
    card = re.search(r'data-metric="nps">(.*?)</article>', page.text, re.S)
    assert card
    found = re.search(r"n = (\d+)", card.group(1))
    return int(found.group(1)) if found else 0


def test_sentiment_and_theme_filters_change_the_figures(client: TestClient, analysed: int) -> None:
    answers = _answers()
    assert _nps_n(client, "") == len(answers)
    for mood in ("positive", "negative", "neutral"):
        expected = sum(n >= UNANALYSED and _mood(score) == mood for n, score in answers)
        assert _nps_n(client, f"sentiment={mood}") == expected > 0, mood
    assert _nps_n(client, "sentiment=mixed") == 0
    assert _nps_n(client, f"sentiment={quote('(none)')}") == 2 * UNANALYSED
    themed = sum(n >= UNANALYSED and n % 3 == 0 for n, _ in answers)
    assert _nps_n(client, f"theme={analysed}") == themed
    assert _nps_n(client, f"theme={quote('(none)')}") == len(answers) - themed
    october = [(n, (n + 10) % 11) for n in range(30)]
    assert _nps_n(client, f"theme={analysed}&sentiment=negative&since=2026-10-01") == sum(
        n >= UNANALYSED and n % 3 == 0 and _mood(score) == "negative" for n, score in october
    )


def test_filters_stay_in_the_url_and_links_and_themes_show_their_current_name(
    client: TestClient, analysed: int, db: Engine
) -> None:
    page = client.get(f"/overview?sentiment=negative&theme={analysed}").text
    assert '<option value="negative" selected>negative</option>' in page
    assert f'<option value="{analysed}" selected>delivery</option>' in page
    assert f"/report/overview?sentiment=negative&amp;theme={analysed}" in page
    assert f"/overview/chart/nps.svg?sentiment=negative&amp;theme={analysed}" in page
    assert "Not filtered by: sentiment, theme" in page  # response rate and response time cannot take them
    for path in ("/channels", "/journey", "/feedback"):
        shown = client.get(f"{path}?sentiment=negative&theme={analysed}").text
        assert '<option value="negative" selected>' in shown and f'<option value="{analysed}" selected>' in shown
    with make_sessionmaker(db)() as session, session.begin():
        text_service.rename_theme(session, analysed, "Late parcels")
    renamed = client.get(f"/overview?theme={analysed}").text  # the store still has the old name: ids match anyway
    assert f'<option value="{analysed}" selected>Late parcels</option>' in renamed
    assert _nps_n(client, f"theme={analysed}") == sum(n >= UNANALYSED and n % 3 == 0 for n, _ in _answers())


def test_the_filter_bar_is_translated(client: TestClient, analysed: int, db: Engine) -> None:
    from cxm.access import service as access_service
    from tests.web.conftest import PASSWORD

    with make_sessionmaker(db)() as session, session.begin():
        access_service.create_user(session, email="jana@example.com", password=PASSWORD, role="viewer", locale="cs")
    sign_in(client, "jana@example.com")
    page = client.get("/overview?sentiment=positive").text
    assert "Téma" in page and '<option value="positive" selected>pozitivní</option>' in page
    assert '<option value="(none)">bez tématu</option>' in page


def _comments(client: TestClient, query: str) -> tuple[int, list[tuple[int, int]]]:
    """How many comments the Feedback page says match, and (customer n, month) of each shown (c0's as (0, 0))."""
    page = client.get(f"/feedback?{query}")
    assert page.status_code == 200
    total = re.search(r"([\d,]+) comments</p>", page.text)
    assert total
    shown = [
        (int(n), int(m))
        for n, m in re.findall(r'<blockquote class="comment">reason (\d+) (\d+)</blockquote>', page.text)
    ]
    hostile = page.text.count('<blockquote class="comment">&lt;script&gt;')
    return int(total.group(1).replace(",", "")), shown + [(0, 0)] * hostile


def test_comments_show_only_what_the_sentiment_and_theme_filters_ask_for(client: TestClient, analysed: int) -> None:
    answers = _answers()
    for mood in ("negative", "positive"):
        total, shown = _comments(client, f"sentiment={mood}")
        matching = sum(n >= UNANALYSED and _mood(score) == mood for n, score in answers)
        assert total == matching > 0, mood
        assert shown and all(n >= UNANALYSED and _mood((n + m) % 11) == mood for n, m in shown), mood
    total, shown = _comments(client, f"theme={analysed}")
    assert total == sum(n >= UNANALYSED and n % 3 == 0 for n, _ in answers)
    assert shown and all(n >= UNANALYSED and n % 3 == 0 for n, _ in shown)
    total, shown = _comments(client, f"sentiment={quote('(none)')}")
    assert total == 2 * UNANALYSED and all(n < UNANALYSED for n, _ in shown)
    total, _ = _comments(client, f"theme={quote('(none)')}&sentiment=positive")
    assert total == sum(n >= UNANALYSED and n % 3 and _mood(score) == "positive" for n, score in answers)
    assert _comments(client, "theme=not-a-theme")[0] == 0
    download = client.get(f"/feedback?format=csv&sentiment=negative&theme={analysed}").text.strip().splitlines()
    assert len(download) - 1 == sum(n >= UNANALYSED and n % 3 == 0 and _mood(s) == "negative" for n, s in answers)


def _improve(client: TestClient, query: str) -> dict[str, int]:
    """The Feedback page's 'improve' question: respondents, and each option's count."""
    page = client.get(f"/feedback?{query}").text
    figure = re.search(r'data-question="relationship-nps.improve">(.*?)</figure>', page, re.S)
    if figure is None:
        return {}
    counted = dict(re.findall(r'<tr><th scope="row">([^<]+)</th><td class="num">(\d+)</td>', figure.group(1)))
    n = re.search(r"n = (\d+)", figure.group(1))
    assert n
    return {"n": int(n.group(1)), **{label: int(count) for label, count in counted.items()}}


def test_choice_and_score_distributions_follow_the_sentiment_and_theme_filters(
    client: TestClient, analysed: int
) -> None:
    detractors = [(n, score) for n, score in _answers() if score <= 6]
    assert _improve(client, "")["n"] == len(detractors)
    negative = [(n, s) for n, s in detractors if n >= UNANALYSED and _mood(s) == "negative"]
    assert _improve(client, "sentiment=negative") == {
        "n": len(negative),
        "Prices": sum(n % 2 == 1 for n, _ in negative),
        "Product quality": 0,
        "Delivery": sum(n % 2 == 0 for n, _ in negative),
        "Customer service": 0,
        "Website and app": 0,
    }
    themed = [(n, s) for n, s in detractors if n >= UNANALYSED and n % 3 == 0]
    assert _improve(client, f"theme={analysed}")["n"] == len(themed)
    assert _improve(client, f"theme={quote('(none)')}")["n"] == len(detractors) - len(themed)
    assert _improve(client, "sentiment=positive") == {}  # no promoter was asked what to improve
    page = client.get("/feedback?sentiment=negative").text
    scores = re.search(r'data-question="relationship-nps.nps">.*?n = (\d+)', page, re.S)
    assert scores and int(scores.group(1)) == sum(n >= UNANALYSED and _mood(s) == "negative" for n, s in _answers())


def test_figures_that_cannot_take_a_filter_say_so(client: TestClient, analysed: int) -> None:
    assert "Not filtered by" not in client.get("/channels").text + client.get("/journey").text
    channels = client.get(f"/channels?sentiment=negative&theme={analysed}").text
    assert "First response within 1 h · Not filtered by: Sentiment, Theme" in channels
    assert "Interactions by channel and journey stage · Not filtered by: Sentiment, Theme" in channels
    journey = client.get("/journey?journey_stage=purchase&channel=web&survey=relationship-nps").text
    assert "Stage funnel · Not filtered by: Journey stage, Survey" in journey
    assert "First response within 1 h · Not filtered by: Survey" in journey
    overview = client.get("/overview?since=2026-10-01").text
    assert "Interactions by channel · Not filtered by: From" in overview
    feedback = client.get(f"/feedback?sentiment=negative&theme={analysed}").text
    assert "Not filtered by" not in feedback
