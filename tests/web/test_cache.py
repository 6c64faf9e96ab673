"""Remembered metric tables: asked once per question while the DuckDB store is unchanged, never for live engines."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from cxm.analytics import service as analytics_service
from cxm.web.cache import forget, remembered


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
    first = remembered(engine, "nps", query, asker)
    first.loc[0, "value"] = -1.0  # a caller changing its copy changes nothing remembered
    assert remembered(engine, "nps", query, asker)["value"].iloc[0] == 1.0 and asker.asked == 1
    remembered(engine, "nps", analytics_service.Query(where={"channel": ["web"]}), asker)
    assert asker.asked == 2  # another question
    store.write_bytes(b"synced again")
    assert remembered(engine, "nps", query, asker)["value"].iloc[0] == 3.0


def test_live_engines_are_always_asked() -> None:
    engine = analytics_service.Engine("postgres", "postgresql://localhost/cxm")
    asker = Asker()
    for _ in range(3):
        remembered(engine, "nps", analytics_service.Query(), asker)
    assert asker.asked == 3
