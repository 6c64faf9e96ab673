"""Themes: fitted per company, assigned as signals, edited by analysts, with their impact on NPS; corrections."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from cxm.analytics import service as analytics_service
from cxm.analytics.engines import open_engine
from cxm.analytics.sync import sync
from cxm.cli import app as cli_app
from cxm.core import jobs
from cxm.core.db import make_sessionmaker
from cxm.core.errors import InvalidInput, NotFound
from cxm.feedback import service as feedback_service
from cxm.text import service
from cxm.text.training import with_corrections

START = datetime(2026, 1, 5, tzinfo=UTC)
LANGUAGES = ["en", "cs"]
DELIVERY = [
    "The parcel arrived {} days late.",
    "Delivery was slow, the parcel came {} days late.",
    "Late delivery again, parcel waited {} days.",
]
STAFF = ["The staff were friendly and helpful.", "Helpful staff, very friendly.", "Friendly staff helped me {} times."]
PRICE = ["Prices are too expensive.", "Too expensive, prices went up {} percent.", "Expensive prices everywhere."]


def planted(n: int = 60) -> list[tuple[int, str, datetime]]:
    """Comments on three themes over two months: late delivery comes with low scores, friendly staff with high."""
    comments = []
    for i in range(n):
        theme, score = [(DELIVERY, 2 + i % 4), (STAFF, 9 + i % 2), (PRICE, 6 + i % 3)][i % 3]
        comments.append((score, theme[i % 3].format(i % 7 + 2), START + timedelta(days=i)))
    return comments


def store(session: Session, comments: list[tuple[int, str, datetime]], prefix: str = "t") -> list[int]:
    """NPS responses with these comments; their ids."""
    feedback_service.install_templates(session)
    survey = feedback_service.get_survey(session, "relationship-nps")
    items = [
        feedback_service.IncomingResponse(
            answers={"nps": score, "reason": text}, external_id=f"{prefix}{i}", language="en", completed_at=when
        )
        for i, (score, text, when) in enumerate(comments)
    ]
    return [i for i in feedback_service.store_responses(session, survey, items, actor="t").response_ids if i]


@pytest.fixture
def themed(db: Engine) -> list[int]:
    """Stored, analysed comments with three fitted themes; the response ids."""
    factory = make_sessionmaker(db)
    with factory.begin() as session:
        ids = store(session, planted())
    jobs.run_due(factory)
    with factory.begin() as session:
        service.fit_themes(session, languages=LANGUAGES, themes=3)
    return ids


def by_term(session: Session, term: str) -> service.ThemeSummary:
    """The theme whose top terms hold `term`."""
    return next(t for t in service.list_themes(session) if term in t.terms[:4])


def test_themes_are_fitted_with_readable_names_and_assigned(themed: list[int], db: Engine) -> None:
    with make_sessionmaker(db).begin() as session:
        themes = service.list_themes(session)
        assert len(themes) == 3 and sum(t.texts for t in themes) >= 60
        delivery, staff = by_term(session, "late"), by_term(session, "staff")
        assert "parcel" in delivery.terms[:5] and "friendly" in staff.name
        assert delivery.texts == 20 and staff.sentiment is not None and delivery.sentiment is not None
        assert staff.sentiment > delivery.sentiment
        signals = service.signals_of(session, source="response", source_id=themed[0])
        assert [s.theme_id for s in signals if s.kind == "theme"] == [delivery.id]


def test_new_texts_get_the_themes_in_use(themed: list[int], db: Engine) -> None:
    factory = make_sessionmaker(db)
    with factory.begin() as session:
        [new] = store(session, [(3, "The parcel arrived five days late.", START + timedelta(days=90))], "new")
    jobs.run_due(factory)
    with factory.begin() as session:
        kinds = {s.kind: s.theme_id for s in service.signals_of(session, source="response", source_id=new)}
        assert kinds["theme"] == by_term(session, "late").id


def test_analysts_rename_merge_and_split_themes(themed: list[int], db: Engine) -> None:
    with make_sessionmaker(db).begin() as session:
        delivery, staff, price = by_term(session, "late"), by_term(session, "staff"), by_term(session, "expensive")
        service.rename_theme(session, delivery.id, "Late deliveries")
        kept = service.merge_themes(session, [staff.id, price.id], languages=LANGUAGES, name="Shop")
        themes = {t.id: t for t in service.list_themes(session)}
        assert set(themes) == {delivery.id, staff.id} and themes[delivery.id].name == "Late deliveries"
        assert kept.name == "Shop" and themes[staff.id].texts == 40
        parts = service.split_theme(session, staff.id, languages=LANGUAGES)
        themes = {t.id: t for t in service.list_themes(session)}
        assert set(themes) == {delivery.id, *(p.id for p in parts)} and themes[delivery.id].texts == 20
        assert sorted(themes[p.id].texts for p in parts) == [20, 20]
        with pytest.raises(NotFound):
            service.rename_theme(session, staff.id, "gone")
        with pytest.raises(InvalidInput):
            service.merge_themes(session, [delivery.id], languages=LANGUAGES)


def test_theme_impact_on_nps_by_month_in_the_store_and_live(themed: list[int], db: Engine, tmp_path: Path) -> None:
    with make_sessionmaker(db).begin() as session:
        delivery, staff = by_term(session, "late").id, by_term(session, "staff").id
    sync(db, str(tmp_path / "store.duckdb"))
    for url in (f"duckdb:///{tmp_path / 'store.duckdb'}", db.url.render_as_string(hide_password=False)):
        frame = analytics_service.theme_impact(open_engine(url), period="month")
        assert set(frame["period"].dt.month) == {1, 2, 3}
        january = frame[frame["period"].dt.month == 1].set_index("theme_id")
        assert january.loc[delivery, "nps_with"] == -100.0 and january.loc[delivery, "impact"] < 0
        assert january.loc[delivery, "ci_high"] < 0 < january.loc[staff, "ci_low"]
        assert january.loc[delivery, "texts"] == january.loc[delivery, "n_with"] > 0
        assert january.loc[staff, "sentiment"] > january.loc[delivery, "sentiment"]


def test_corrections_override_the_signal_and_train_the_next_model(themed: list[int], db: Engine) -> None:
    with make_sessionmaker(db).begin() as session:
        service.correct_sentiment(session, source="response", source_id=themed[1], label="negative", actor="ann")
        labels = {
            s.kind: (s.label, s.value, s.model)
            for s in service.signals_of(session, source="response", source_id=themed[1])
        }
        assert labels["sentiment"] == ("negative", -1.0, "correction")
        comments = feedback_service.rated_comments(session)
        examples = [("response", themed[1], "x", "negative"), ("interaction", 7, "Rude agent.", "negative")]
        relabelled, extra = with_corrections(comments, examples)
        assert next(c.label for c in relabelled if c.response_id == themed[1]) == "negative"
        assert extra == [("Rude agent.", "negative")]
        with pytest.raises(NotFound):
            service.correct_sentiment(session, source="response", source_id=10**6, label="positive", actor="ann")
        with pytest.raises(InvalidInput):
            service.correct_sentiment(session, source="response", source_id=themed[1], label="angry", actor="ann")


def test_themes_through_the_api(themed: list[int], client: TestClient, admin_headers: dict[str, str]) -> None:
    listed = client.get("/api/v1/text/themes", headers=admin_headers).json()
    assert len(listed) == 3 and {"id", "name", "terms", "texts", "sentiment"} <= listed[0].keys()
    first, second = listed[0]["id"], listed[1]["id"]
    renamed = client.patch(f"/api/v1/text/themes/{first}", json={"name": "<b>Boxes</b>"}, headers=admin_headers)
    assert renamed.status_code == 200 and renamed.json()["name"] == "<b>Boxes</b>"
    merged = client.post("/api/v1/text/themes/merge", json={"theme_ids": [first, second]}, headers=admin_headers)
    assert merged.status_code == 200 and merged.json()["texts"] == 40
    split = client.post(f"/api/v1/text/themes/{first}/split", headers=admin_headers)
    assert split.status_code == 201 and len(split.json()) == 2
    missing = client.patch("/api/v1/text/themes/999999", json={"name": "x"}, headers=admin_headers)
    assert missing.status_code == 404 and missing.json()["error"]["code"]
    body = {"source": "response", "source_id": themed[0], "label": "positive"}
    corrected = client.post("/api/v1/text/corrections", json=body, headers=admin_headers)
    assert corrected.status_code == 201 and corrected.json()["actor"].startswith("apikey:")
    refit = client.post("/api/v1/text/themes", json={"themes": 2}, headers=admin_headers)
    assert refit.status_code == 201 and len(refit.json()) == 2
    assert client.post("/api/v1/analytics/sync", headers=admin_headers).status_code == 200
    impact = client.get("/api/v1/analytics/themes", headers=admin_headers)
    assert impact.status_code == 200 and impact.json()["rows"]


def test_themes_through_the_cli_and_library(themed: list[int], database_url: str, db: Engine) -> None:
    runner, base = CliRunner(), ["--database-url", database_url, "text"]
    listed = runner.invoke(cli_app, [*base, "themes", "list"])
    assert listed.exit_code == 0 and "parcel" in listed.stdout
    fitted = runner.invoke(cli_app, [*base, "themes", "fit", "--themes", "3"])
    assert fitted.exit_code == 0 and "friendly" in fitted.stdout
    with make_sessionmaker(db).begin() as session:
        delivery, staff = by_term(session, "late").id, by_term(session, "staff").id
    assert runner.invoke(cli_app, [*base, "themes", "rename", str(delivery), "Late"]).exit_code == 0
    assert "merged into theme" in runner.invoke(cli_app, [*base, "themes", "merge", str(delivery), str(staff)]).stdout
    assert "split into" in runner.invoke(cli_app, [*base, "themes", "split", str(delivery)]).stdout
    assert runner.invoke(cli_app, [*base, "themes", "rename", "999999", "x"]).exit_code != 0
    corrected = runner.invoke(cli_app, [*base, "correct", "response", str(themed[2]), "neutral"])
    assert corrected.exit_code == 0
    assert runner.invoke(cli_app, [*base, "correct", "response", str(themed[2]), "furious"]).exit_code != 0
    hub = __import__("cxm").connect(database_url)
    try:
        assert list(hub.text.themes().columns) == ["id", "name", "terms", "texts", "sentiment"]
        assert len(hub.text.themes()) == 3
    finally:
        hub.close()


def test_the_worker_fits_a_companys_first_themes_once_enough_texts_are_analysed(
    db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cxm.text import tasks
    from cxm.web.filters import FilterBar, comments_said, theme_menu

    monkeypatch.setattr(tasks, "THEMES_AFTER", 30)
    factory = make_sessionmaker(db)
    comments = planted(42)
    with factory.begin() as session:
        store(session, comments[:21], prefix="a")
    jobs.run_due(factory)
    with factory.begin() as session:
        assert service.list_themes(session) == []  # 21 analysed texts: not yet
        store(session, comments[21:], prefix="b")
    jobs.run_due(factory)
    with factory.begin() as session:
        found = service.list_themes(session)
        assert len(found) >= 2 and sum(t.texts for t in found) >= len(comments)
        menu = dict(theme_menu(session))
        assert all(menu[str(t.id)] == t.name for t in found)
        late = by_term(session, "parcel")
        wanted = feedback_service.VerbatimFilter(said=comments_said(FilterBar(theme=str(late.id))))
        shown, total = feedback_service.verbatims(session, wanted, limit=100, offset=0)
        assert total == late.texts and all("parcel" in v.text.lower() for v in shown)
        service.rename_theme(session, late.id, "Late parcels")
        tasks.queue_first_themes_if_due(session)  # a company with themes is never refitted behind its analysts
    jobs.run_due(factory)
    with factory.begin() as session:
        assert sorted(t.id for t in service.list_themes(session)) == sorted(t.id for t in found)
        assert service.theme_names(session).count((late.id, "Late parcels")) == 1


def test_theme_names_say_what_sets_a_theme_apart_as_customers_write_it() -> None:
    import numpy as np

    from cxm.text.topics import Topics, spellings

    assert spellings([("Záruka neplatí, záruka skončila.", "cs"), ("zaruka", "cs")])["zaruka"] == "záruka"
    weights = np.array([[2.0, 3.0, 0.0], [0.0, 3.0, 2.0]])  # the brand weighs most in both themes
    topics = Topics(["zaruka", "lumo", "kabel"], np.ones(3), weights, [1, 2], ["záruka", "Lumo", "kabel"])
    assert topics.names() == ["záruka / Lumo", "kabel / Lumo"]
    assert Topics.from_bytes(topics.to_bytes()).names() == topics.names()
    unspelled = Topics(["zaruka", "lumo", "kabel"], np.ones(3), weights, [1, 2])  # a model stored before spellings
    assert Topics.from_bytes(unspelled.to_bytes()).names() == ["zaruka / lumo", "kabel / lumo"]
