"""The filter bar's sentiment and theme filters: they change the figures, offer the themes by id, stay in links."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cxm.analytics import service as analytics_service
from cxm.core.db import make_sessionmaker
from cxm.text import service as text_service
from tests.web.comments_data import UNANALYSED, analyse, mood_of, stored_answers
from tests.web.conftest import sign_in
from tests.web.pages_data import store_company


@pytest.fixture
def analysed(client: TestClient, admin_headers: dict[str, str], people: dict[str, str], db: Engine) -> int:
    """The page-test company with analysed comments, synced; the id of its one theme."""
    store_company(client, admin_headers)
    theme_id = analyse(db)
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
    answers = stored_answers()
    assert _nps_n(client, "") == len(answers)
    for mood in ("positive", "negative", "neutral"):
        expected = sum(n >= UNANALYSED and mood_of(score) == mood for n, score in answers)
        assert _nps_n(client, f"sentiment={mood}") == expected > 0, mood
    assert _nps_n(client, "sentiment=mixed") == 0
    assert _nps_n(client, f"sentiment={quote('(none)')}") == 2 * UNANALYSED
    themed = sum(n >= UNANALYSED and n % 3 == 0 for n, _ in answers)
    assert _nps_n(client, f"theme={analysed}") == themed
    assert _nps_n(client, f"theme={quote('(none)')}") == len(answers) - themed
    october = [(n, (n + 10) % 11) for n in range(30)]
    assert _nps_n(client, f"theme={analysed}&sentiment=negative&since=2026-10-01") == sum(
        n >= UNANALYSED and n % 3 == 0 and mood_of(score) == "negative" for n, score in october
    )


def test_filters_stay_in_the_url_and_links_and_themes_show_their_current_name(
    client: TestClient, analysed: int, db: Engine
) -> None:
    page = client.get(f"/overview?sentiment=negative&theme={analysed}").text
    assert '<option value="negative" selected>negative</option>' in page
    assert f'<option value="{analysed}" selected>delivery</option>' in page
    assert f"/report/overview?sentiment=negative&amp;theme={analysed}" in page
    assert f"/overview/chart/nps.svg?sentiment=negative&amp;theme={analysed}" in page
    assert "Not filtered by: Sentiment, Theme" in page  # response rate and response time cannot take them
    for path in ("/channels", "/journey", "/feedback"):
        shown = client.get(f"{path}?sentiment=negative&theme={analysed}").text
        assert '<option value="negative" selected>' in shown and f'<option value="{analysed}" selected>' in shown
    with make_sessionmaker(db)() as session, session.begin():
        text_service.rename_theme(session, analysed, "Late parcels")
    renamed = client.get(f"/overview?theme={analysed}").text  # the store still has the old name: ids match anyway
    assert f'<option value="{analysed}" selected>Late parcels</option>' in renamed
    assert _nps_n(client, f"theme={analysed}") == sum(n >= UNANALYSED and n % 3 == 0 for n, _ in stored_answers())


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
    answers = stored_answers()
    for mood in ("negative", "positive"):
        total, shown = _comments(client, f"sentiment={mood}")
        matching = sum(n >= UNANALYSED and mood_of(score) == mood for n, score in answers)
        assert total == matching > 0, mood
        assert shown and all(n >= UNANALYSED and mood_of((n + m) % 11) == mood for n, m in shown), mood
    total, shown = _comments(client, f"theme={analysed}")
    assert total == sum(n >= UNANALYSED and n % 3 == 0 for n, _ in answers)
    assert shown and all(n >= UNANALYSED and n % 3 == 0 for n, _ in shown)
    total, shown = _comments(client, f"sentiment={quote('(none)')}")
    assert total == 2 * UNANALYSED and all(n < UNANALYSED for n, _ in shown)
    total, _ = _comments(client, f"theme={quote('(none)')}&sentiment=positive")
    assert total == sum(n >= UNANALYSED and n % 3 and mood_of(score) == "positive" for n, score in answers)
    assert _comments(client, "theme=not-a-theme")[0] == 0
    download = list(
        csv.DictReader(io.StringIO(client.get(f"/feedback?format=csv&sentiment=negative&theme={analysed}").text))
    )
    assert len(download) == sum(n >= UNANALYSED and n % 3 == 0 and mood_of(s) == "negative" for n, s in answers)
    assert {(row["sentiment"], row["themes"]) for row in download} == {("negative", "delivery")}
    unanalysed = list(csv.DictReader(io.StringIO(client.get(f"/feedback?format=csv&sentiment={quote('(none)')}").text)))
    assert len(unanalysed) == 2 * UNANALYSED and {(row["sentiment"], row["themes"]) for row in unanalysed} == {("", "")}


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
    detractors = [(n, score) for n, score in stored_answers() if score <= 6]
    assert _improve(client, "")["n"] == len(detractors)
    negative = [(n, s) for n, s in detractors if n >= UNANALYSED and mood_of(s) == "negative"]
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
    assert scores and int(scores.group(1)) == sum(
        n >= UNANALYSED and mood_of(s) == "negative" for n, s in stored_answers()
    )


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


def test_the_filter_bar_form_sent_with_blank_dates_and_menus_filters_by_what_was_chosen(
    client: TestClient, analysed: int
) -> None:
    blank = "since=&until=&channel=&journey_stage=&segment=&language=&survey=&theme="
    assert _nps_n(client, f"{blank}&sentiment=negative") == _nps_n(client, "sentiment=negative") > 0
    refused = client.get("/overview?since=yesterday")
    assert refused.status_code == 422 and "is not a date" in refused.text
    searched = client.get(f"/feedback?{blank}&sentiment=negative&q=reason&min_score=&max_score=")
    assert searched.status_code == 200
    assert _comments(client, "sentiment=negative&q=reason&min_score=&max_score=3")[0] == sum(
        n >= UNANALYSED and s <= 3 for n, s in stored_answers()
    )
    assert client.get("/feedback?min_score=11").status_code == 422


def _tags(client: TestClient, query: str) -> dict[tuple[int, int], list[str]]:
    """The tags after the score of each comment the Feedback page shows, by (customer n, month)."""
    page = client.get(f"/feedback?{query}").text
    found = {}
    for entry in re.findall(r'<li class="entry response">(.*?)</li>', page, re.S):
        said = re.search(r'<blockquote class="comment">reason (\d+) (\d+)</blockquote>', entry)
        if said:
            tags = re.findall(r'<span class="tag (?:mood-\w+|theme)" title="[^"]*">([^<]*)</span>', entry)
            found[int(said.group(1)), int(said.group(2))] = tags
    return found


def test_each_comment_shows_its_sentiment_and_themes_escaped_and_translated(
    client: TestClient, analysed: int, db: Engine
) -> None:
    shown = _tags(client, "")
    assert shown
    for (n, month), tags in shown.items():
        expected = [mood_of((n + month) % 11)] + (["delivery"] if n % 3 == 0 else []) if n >= UNANALYSED else []
        assert tags == expected, (n, month)
    with make_sessionmaker(db)() as session, session.begin():
        text_service.rename_theme(session, analysed, "<script>alert(1)</script>")
    page = client.get(f"/feedback?theme={analysed}").text
    assert '<span class="tag theme" title="Theme">&lt;script&gt;alert(1)&lt;/script&gt;</span>' in page
    assert "<script>alert(1)" not in page
    from cxm.access import service as access_service
    from tests.web.conftest import PASSWORD

    with make_sessionmaker(db)() as session, session.begin():
        access_service.create_user(session, email="ana@example.com", password=PASSWORD, role="viewer", locale="hr")
    sign_in(client, "ana@example.com")
    croatian = _tags(client, "sentiment=positive")
    assert croatian and all(tags[0] == "pozitivan" for tags in croatian.values())
