"""Spark reached through Spark Connect, as a cluster is: the shared questions give what the DuckDB store gives."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

from cxm.analytics import service
from cxm.analytics.engines import Engine
from tests.analytics.spark_connect_client import QUESTIONS

ROOT = Path(__file__).resolve().parents[2]


def test_spark_connect_answers_as_the_store_does(engines: dict[str, Engine], spark_connect: str) -> None:
    lake = Path(engines["duckdb"].url.removeprefix("duckdb:///")).parent / "lake"
    url = f"spark://{spark_connect}?lake={lake}"
    # The client runs with a clock of its own too: periods must still be cut in UTC.
    environment = {**os.environ, "TZ": "Asia/Tokyo", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "tests.analytics.spark_connect_client", url]
    ran = subprocess.run(command, capture_output=True, text=True, env=environment, cwd=ROOT, timeout=600)
    assert ran.returncode == 0, ran.stderr[-3000:]
    remote = json.loads(ran.stdout.strip().splitlines()[-1])
    for name, (metric, query) in QUESTIONS.items():
        here = service.metric(engines["duckdb"], metric, query)
        there = pd.read_json(io.StringIO(remote[name]), orient="records", dtype=False)
        assert len(here) > 1 and there.columns.tolist() == here.columns.tolist(), name
        if "period" in here:
            here["period"] = here["period"].dt.strftime("%Y-%m-%d")
            there["period"] = there["period"].str[:10]
        pd.testing.assert_frame_equal(there, here, check_dtype=False, rtol=1e-9, obj=name)
