"""Sentiment and themes of the comments as dimensions and filters of score metrics, and as key drivers, everywhere."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine as SqlEngine

from cxm.analytics import service, texts
from cxm.analytics.dimensions import Query
from cxm.analytics.drivers import DriverQuery, key_drivers
from cxm.analytics.engines import Engine
from cxm.core.db import make_sessionmaker
from cxm.core.errors import InvalidInput
from cxm.text import sentiment
from tests.analytics import reference, text_data
from tests.analytics.test_drivers import johnson_by_svd
from tests.conftest import _empty

TOLERANCE = 1e-9
NONE = "(none)"


@pytest.fixture(scope="module")
def loaded(engine: SqlEngine) -> Iterator[text_data.TextData]:
    """The analysed comments (overrides the shared dataset, so `engines` syncs these)."""
    _empty(engine)
    with make_sessionmaker(engine)() as session, session.begin():
        data = text_data.load(session)
    yield data
    _empty(engine)


def _everywhere(engines: dict[str, Engine], name: str, query: Query) -> pd.DataFrame:
    """The metric, asserted the same on every engine."""
    results = {kind: service.metric(engine, name, query) for kind, engine in engines.items()}
    first = next(iter(results.values()))
    for kind, frame in results.items():
        pd.testing.assert_frame_equal(frame, first, check_dtype=False, rtol=TOLERANCE, obj=kind)
    return first


def _check(found: pd.DataFrame, key: str, expected: dict[Any, dict[str, float]]) -> None:
    assert set(found[key]) == set(expected)
    for row in found.to_dict("records"):
        want = expected[row[key]]
        assert row["n"] == want["n"] and row["value"] == pytest.approx(want["value"], abs=TOLERANCE)


def _by_theme(rows: list[dict[str, Any]], value: str) -> dict[str, list[Any]]:
    groups: dict[str, list[Any]] = {}
    for row in rows:
        for theme in row["themes"] or [NONE]:
            groups.setdefault(theme, []).append(row[value])
    return groups


def test_nps_by_sentiment_is_each_responses_comment_label(
    engines: dict[str, Engine], loaded: text_data.TextData
) -> None:
    found = _everywhere(engines, "nps", Query(by=["sentiment"]))
    groups: dict[str, list[int]] = {}
    for row in loaded.rows:
        groups.setdefault(str(row["sentiment"] or NONE), []).append(int(row["nps"]))
    _check(found, "sentiment", {label: reference.nps(s) for label, s in groups.items()})
    assert {"positive", "negative", "neutral", "mixed", NONE} <= set(found["sentiment"])


def test_nps_by_theme_counts_a_response_once_in_each_of_its_themes(
    engines: dict[str, Engine], loaded: text_data.TextData
) -> None:
    found = _everywhere(engines, "nps", Query(by=["theme"]))
    expected = {theme: reference.nps(s) for theme, s in _by_theme(loaded.rows, "nps").items()}
    _check(found, "theme", expected)
    delivery = found.set_index("theme").loc["delivery"]
    assert delivery["value"] < found.set_index("theme").loc["staff", "value"] and delivery["ci_high"] < 0


def test_theme_and_sentiment_filters(engines: dict[str, Engine], loaded: text_data.TextData) -> None:
    either = _everywhere(engines, "nps", Query(where={"theme": ["delivery", "staff"]}))
    chosen = [int(r["nps"]) for r in loaded.rows if {"delivery", "staff"} & set(r["themes"])]  # type: ignore[arg-type]
    assert either["n"].iloc[0] == len(chosen)  # a response about both counts once
    assert either["value"].iloc[0] == pytest.approx(reference.nps(chosen)["value"], abs=TOLERANCE)
    query = Query(by=["theme"], where={"sentiment": ["negative"], "theme": ["delivery"]}, period="month")
    found = _everywhere(engines, "rating", query)
    negative = [r for r in loaded.rows if r["sentiment"] == "negative" and "delivery" in r["themes"]]  # type: ignore[operator]
    assert set(found["theme"]) == {"delivery"} and found["n"].sum() == len(negative)
    assert set(found["period"]) == {pd.Timestamp("2026-03-01")}


def test_none_chooses_the_answers_without_an_analysed_comment(
    engines: dict[str, Engine], loaded: text_data.TextData
) -> None:
    quiet = [int(r["nps"]) for r in loaded.rows if r["sentiment"] is None]
    for name in ("sentiment", "theme", "theme_id"):
        found = _everywhere(engines, "nps", Query(where={name: [NONE]}))
        expected = quiet if name == "sentiment" else [int(r["nps"]) for r in loaded.rows if not r["themes"]]
        assert found["n"].iloc[0] == len(expected) > 0, name
        assert found["value"].iloc[0] == pytest.approx(reference.nps(expected)["value"], abs=TOLERANCE)
    found = _everywhere(engines, "nps", Query(where={"sentiment": ["negative", NONE]}))
    assert found["n"].iloc[0] == len(quiet) + sum(r["sentiment"] == "negative" for r in loaded.rows)


def test_theme_id_filters_and_breaks_down_like_the_theme_name(
    engines: dict[str, Engine], loaded: text_data.TextData
) -> None:
    delivery = str(loaded.theme_ids["delivery"])
    by_id = _everywhere(engines, "nps", Query(by=["theme_id"], where={"theme_id": [delivery, NONE]}))
    by_name = _everywhere(engines, "nps", Query(by=["theme"], where={"theme": ["delivery", NONE]}))
    assert list(by_id["theme_id"]) == [NONE, delivery] and list(by_name["theme"]) == [NONE, "delivery"]
    assert list(by_id["n"]) == list(by_name["n"]) and list(by_id["value"]) == list(by_name["value"])
    either = _everywhere(engines, "nps", Query(where={"theme_id": [delivery, NONE]}))
    expected = [int(r["nps"]) for r in loaded.rows if not r["themes"] or "delivery" in r["themes"]]  # type: ignore[operator]
    assert either["n"].iloc[0] == len(expected)


def test_sentiment_and_theme_go_together_and_with_customer_dimensions(
    engines: dict[str, Engine], loaded: text_data.TextData
) -> None:
    found = _everywhere(engines, "nps", Query(by=["theme", "sentiment", "segment"]))
    assert found["n"].sum() == sum(max(1, len(r["themes"])) for r in loaded.rows)  # type: ignore[arg-type]
    plain = service.metric(engines["duckdb"], "nps", Query(by=["segment"]))
    assert plain["n"].sum() == len(loaded.rows)


def test_thresholds_are_the_text_engines() -> None:
    assert (texts.POSITIVE_FROM, texts.NEGATIVE_BELOW) == (sentiment.POSITIVE_FROM, sentiment.NEGATIVE_BELOW)


def _drivers_everywhere(engines: dict[str, Engine], request: DriverQuery) -> pd.DataFrame:
    results = {kind: key_drivers(engine, request) for kind, engine in engines.items()}
    first = next(iter(results.values()))
    for kind, frame in results.items():
        pd.testing.assert_frame_equal(frame, first, check_dtype=False, rtol=TOLERANCE, obj=kind)
    return first


def _text_matrix(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Per response with a comment: nps, waiting, sentiment (0-100) and 100/0 per planted theme."""
    table = pd.DataFrame([r for r in rows if r["mood"] is not None])
    table["sentiment"] = (table["mood"] + 1.0) * 50.0
    for theme in ("delivery", "price"):
        table[f"theme:{theme}"] = [100.0 if theme in about else 0.0 for about in table["themes"]]
    return table


def test_planted_theme_driver_ranks_first_next_to_questions(
    engines: dict[str, Engine], loaded: text_data.TextData
) -> None:
    names = ["waiting", "sentiment", "theme:delivery", "theme:price"]
    found = _drivers_everywhere(engines, DriverQuery(survey="visit", outcome="nps", drivers=names, resamples=0))
    table = _text_matrix(loaded.rows)
    expected = dict(zip(names, johnson_by_svd(table[names].to_numpy(float), table["nps"].to_numpy(float)), strict=True))
    assert found["driver"].iloc[0] == "theme:delivery" and found["n"].iloc[0] == len(table)
    for row in found.to_dict("records"):
        assert row["weight"] == pytest.approx(expected[row["driver"]], abs=TOLERANCE)
    delivery = found.set_index("driver").loc["theme:delivery"]
    assert delivery["kind"] == "text" and delivery["mean_score"] == pytest.approx(table["theme:delivery"].mean())


def test_text_drivers_at_the_customer_level(engines: dict[str, Engine], loaded: text_data.TextData) -> None:
    names = ["sentiment", "theme:delivery"]
    request = DriverQuery(survey="visit", outcome="nps", drivers=names, level="customer", resamples=0)
    found = _drivers_everywhere(engines, request).set_index("driver")
    every = pd.DataFrame(loaded.rows).groupby("customer_id")["nps"].mean()
    said = _text_matrix(loaded.rows).groupby("customer_id")[names].agg({"sentiment": "mean", "theme:delivery": "max"})
    table = said.join(every).dropna()
    weights = johnson_by_svd(table[names].to_numpy(float), table["nps"].to_numpy(float))
    assert found["n"].iloc[0] == len(table)
    assert found.loc[names, "weight"].to_numpy() == pytest.approx(weights, abs=TOLERANCE)
    assert found.index[0] == "theme:delivery"


def test_unknown_themes_are_refused_with_those_known(engines: dict[str, Engine], loaded: text_data.TextData) -> None:
    with pytest.raises(InvalidInput, match="theme 'weather'") as refused:
        key_drivers(engines["duckdb"], DriverQuery(survey="visit", outcome="nps", drivers=["theme:weather"]))
    assert refused.value.details == {"themes": ["delivery", "price", "staff"]}
    assert not np.isnan(key_drivers(engines["duckdb"], DriverQuery("visit", "nps", ("sentiment",))).loc[0, "weight"])
