"""Ratings take their questions' scale: intervals stay on it, answers that all agree get some width, and different
scales are never averaged together."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine as SqlEngine

from cxm.analytics import service
from cxm.analytics.dimensions import Query
from cxm.analytics.engines import open_engine
from cxm.analytics.sync import sync
from cxm.core.db import make_sessionmaker
from cxm.core.errors import InvalidInput
from cxm.customers import service as customers_service
from cxm.feedback import service as feedback_service
from cxm.feedback.schemas import SurveyCreate

EN = {"en": "How was it?"}


def _rate(db: SqlEngine, survey_key: str, scale: tuple[int, int], scores: list[int]) -> None:
    """A survey with one rating question on `scale`, answered once by each of len(scores) people."""
    question = {"key": "stars", "kind": "rating", "label": EN, "scale_min": scale[0], "scale_max": scale[1]}
    definition = {"key": survey_key, "name": survey_key, "title": EN, "thank_you": EN, "questions": [question],
                  "status": "active"}  # fmt: skip
    when = datetime(2026, 5, 5, tzinfo=UTC)
    with make_sessionmaker(db)() as session, session.begin():
        survey = feedback_service.create_survey(session, SurveyCreate.model_validate(definition))
        for index, score in enumerate(scores):
            claim = customers_service.Claim(keys=(("email", f"{survey_key}{index}@example.com"),))
            [customer] = customers_service.resolve(session, [claim], actor="test")
            who = feedback_service.Respondent(customer_id=customer, channel="email", language="en")
            feedback_service.record_response(session, survey, {"stars": score}, who, started_at=when, completed_at=when)


def _engines(db: SqlEngine, folder: Path) -> dict[str, service.Engine]:
    store = folder / "store.duckdb"
    sync(db, str(store))
    live = db.url.render_as_string(hide_password=False).replace("postgresql+psycopg://", "postgresql://")
    return {"duckdb": open_engine(f"duckdb:///{store}"), "live": open_engine(live)}


def test_ratings_that_all_agree_get_an_interval_on_their_scale(db: SqlEngine, tmp_path: Path) -> None:
    _rate(db, "stay", (1, 5), [5] * 12)
    for name, engine in _engines(db, tmp_path).items():
        [row] = service.metric(engine, "rating", Query()).itertuples()
        assert row.value == 5 and row.n == 12 and row.ci_method == "adjusted-t", name
        assert row.ci_high == 5 and 3.5 < row.ci_low < 5, name  # the plain t interval had no width at all


def test_ratings_on_different_scales_are_not_averaged_together(db: SqlEngine, tmp_path: Path) -> None:
    _rate(db, "stay", (1, 5), [5, 4, 5, 3, 5, 4, 2])
    _rate(db, "food", (0, 10), [9, 8, 10, 7])
    for name, engine in _engines(db, tmp_path).items():
        for mixed in (Query(), Query(by=["channel"]), Query(by=["question"])):  # both questions are called "stars"
            with pytest.raises(InvalidInput, match="different scales") as refused:
                service.metric(engine, "rating", mixed)
            assert refused.value.details["scales"] == [
                {"survey": "food", "question": "stars", "scale_min": 0.0, "scale_max": 10.0},
                {"survey": "stay", "question": "stars", "scale_min": 1.0, "scale_max": 5.0},
            ], name
        [stay] = service.metric(engine, "rating", Query(where={"survey": ["stay"]})).itertuples()
        assert stay.ci_method == "adjusted-t" and stay.ci_high <= 5, name  # 7 answers: 4 differ from the 5s
        assert stay.value == pytest.approx(28 / 7), name


def test_ratings_by_survey_each_on_its_own_scale(db: SqlEngine, tmp_path: Path) -> None:
    _rate(db, "stay", (1, 5), [5, 4, 5, 3, 5, 4, 2])
    _rate(db, "room", (1, 5), [5, 5, 5, 5, 5, 5, 5, 5, 4])
    _rate(db, "food", (0, 10), [9, 8, 10, 7])
    for name, engine in _engines(db, tmp_path).items():
        rows = service.metric(engine, "rating", Query(by=["survey"])).set_index("survey")
        assert rows.loc["food", "value"] == pytest.approx(8.5) and rows.loc["food", "ci_high"] <= 10, name
        assert rows.loc["room", "ci_method"] == "adjusted-t" and rows.loc["room", "ci_high"] <= 5, name
        # Each group is compared with the rest of its scale: the stays with the rooms, the food with nothing.
        assert rows.loc["stay", "change"] == pytest.approx(28 / 7 - 44 / 9), name
        assert rows.loc["stay", "compared_with"] == "rest" and pd.isna(rows.loc["food", "change"]), name
        both = service.metric(engine, "rating", Query(by=["survey", "question"]))
        assert both["n"].tolist() == [4, 9, 7], name
