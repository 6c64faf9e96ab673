"""Reading whole operational tables: where the child readers hand their pieces over."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from sqlalchemy import Engine as SqlEngine

from cxm.analytics import extract, staging
from cxm.analytics.sync import FACT_TABLES, sync
from cxm.core.db import make_sessionmaker
from tests.analytics import journey_data


def test_a_piece_goes_to_a_temporary_folder_when_its_place_is_full() -> None:
    rows = pa.table({"id": list(range(50_000)), "channel": ["web"] * 50_000})
    where = extract.write_piece(rows, "/dev/full")  # every write there fails: no space left on device
    try:
        assert os.path.dirname(where) != "/dev"
        with pa.memory_map(where) as source:
            assert pa.ipc.open_file(source).read_all().equals(rows)
    finally:
        os.unlink(where)
        os.rmdir(os.path.dirname(where))


def _facts(store: Path) -> dict[str, list[tuple[object, ...]]]:
    with duckdb.connect(str(store), read_only=True) as con:
        return {fact: con.execute(f"SELECT * FROM {fact} ORDER BY ALL").fetchall() for fact in FACT_TABLES}


@pytest.mark.parametrize(("free", "place"), [(0, None), (1 << 50, extract.SHARED_MEMORY)])
def test_pieces_are_handed_over_in_shared_memory_only_when_it_has_room(
    db: SqlEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, free: int, place: str | None
) -> None:
    with make_sessionmaker(db)() as session, session.begin():
        journey_data.load_ladder(session)
    whole = sync(db, str(tmp_path / "whole.duckdb"))
    made: list[tuple[str | None, str]] = []
    real = tempfile.mkdtemp

    def spy(*args: Any, **kwargs: Any) -> str:
        folder = real(*args, **kwargs)
        made.append((kwargs.get("dir"), folder))
        return folder

    monkeypatch.setattr(extract.tempfile, "mkdtemp", spy)
    monkeypatch.setattr(extract, "_free_bytes", lambda folder: free)
    monkeypatch.setattr(extract, "SMALL", 0)
    monkeypatch.setattr(extract, "PIECE", 3)  # every table in several pieces, read by child processes
    pieces = sync(db, str(tmp_path / "pieces.duckdb"))
    assert pieces.rows == whole.rows and _facts(tmp_path / "pieces.duckdb") == _facts(tmp_path / "whole.duckdb")
    if db.dialect.name == "sqlite":
        assert made and {chosen for chosen, _ in made} == {place}
        assert not [folder for _, folder in made if os.path.exists(folder)]  # each removed after its read
    else:  # PostgreSQL is read over connections of this process: nothing to hand over
        assert made == []


def test_a_range_is_cut_into_pieces_that_cover_it_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(extract, "PIECE", 3)
    cuts = extract._pieces({"answers": ("response_id", 10, 17), "responses": ("id", 10, 12)})
    covered = []
    for name, where in cuts:
        low, high = (int(part.split()[-1]) for part in where.split(" AND "))
        covered += [(name, value) for value in range(low + 1, high + 1)]
    assert sorted(covered) == [("answers", v) for v in range(11, 18)] + [("responses", 11), ("responses", 12)]
    assert [name for name, _ in cuts] == ["answers"] * 3 + ["responses"]  # the larger first, in pieces of 3 or less


def test_pieces_of_one_type_are_staged_as_one_scan(tmp_path: Path) -> None:
    def answers(ids: range, score: pa.Array | None = None) -> pa.Table:
        scores = score if score is not None else pa.array([7] * len(ids), pa.int64())
        return pa.table({"response_id": pa.array(ids, pa.int64()), "question_id": pa.array([1] * len(ids)),
                         "score": scores})  # fmt: skip

    with duckdb.connect(str(tmp_path / "store.duckdb")) as con:
        alike = [answers(range(0, 3)), answers(range(3, 5)), answers(range(5, 9))]
        staging.stage(con, "answers", alike)
        scans = "SELECT count(*) FROM duckdb_views() WHERE starts_with(view_name, 'arrow_answers_')"
        assert con.execute(scans).fetchone() == (1,)  # one Arrow table: DuckDB writes full row groups from it
        assert con.execute("SELECT count(*), sum(response_id) FROM stage_answers").fetchone() == (9, 36)
        # A piece whose column SQLite handed over as all-NULL integers, another as text: one scan per type.
        unlike = [*alike, answers(range(9, 11), pa.array([None, None], pa.null()))]
        staging.stage(con, "answers", unlike)
        assert con.execute(scans).fetchone() == (2,)
        assert con.execute("SELECT count(*), count(score) FROM stage_answers").fetchone() == (11, 9)
