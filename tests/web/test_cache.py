"""Remembered metric tables: asked once per question while the DuckDB store is unchanged, never for live engines."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest

from cxm.analytics import service as analytics_service
from cxm.web.cache import forget, remembered, sharing


@pytest.fixture(autouse=True)
def _empty() -> Iterator[None]:
    forget()
    yield
    forget()


class Asker:
    """Counts how often the engine was really asked."""

    def __init__(self) -> None:
        self.asked = 0

    def __call__(self) -> pd.DataFrame:
        self.asked += 1
        return pd.DataFrame({"value": [float(self.asked)]})


def test_the_same_question_is_asked_once_until_the_store_changes(tmp_path: Path) -> None:
    store = tmp_path / "cxm.analytics.duckdb"
    store.write_bytes(b"one")
    engine = analytics_service.Engine("duckdb", f"duckdb:///{store}")
    asker, query = Asker(), analytics_service.Query(period="month")
    first = remembered(engine, ("nps", repr(query)), asker)
    first.loc[0, "value"] = -1.0  # a caller changing its copy changes nothing remembered
    assert remembered(engine, ("nps", repr(query)), asker)["value"].iloc[0] == 1.0 and asker.asked == 1
    remembered(engine, ("nps", "web"), asker)
    assert asker.asked == 2  # another question
    store.write_bytes(b"synced again")
    assert remembered(engine, ("nps", repr(query)), asker)["value"].iloc[0] == 3.0


def test_live_engines_are_always_asked() -> None:
    engine = analytics_service.Engine("postgres", "postgresql://localhost/cxm")
    asker = Asker()
    for _ in range(3):
        remembered(engine, "nps", asker)
    assert asker.asked == 3


def test_a_page_opens_one_store_connection_and_only_when_it_must(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = analytics_service.Engine("duckdb", f"duckdb:///{tmp_path / 'cxm.analytics.duckdb'}")
    opened: list[str] = []

    @contextmanager
    def holding() -> Iterator[None]:
        opened.append("connection")
        yield

    monkeypatch.setattr(engine, "holding", holding)
    asker = Asker()
    with sharing(engine):
        remembered(engine, "nps", asker)
        remembered(engine, "csat", asker)
    assert opened == ["connection"] and asker.asked == 2
    with sharing(engine):
        remembered(engine, "nps", asker)
    assert opened == ["connection"] and asker.asked == 2  # all remembered: no connection at all
