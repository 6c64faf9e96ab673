"""The server's traffic gauge: requests counted by the middleware, and the wait for a quiet moment."""

from __future__ import annotations

import threading
import time

from fastapi import FastAPI
from fastapi.testclient import TestClient

from cxm.core.traffic import CountRequests, Traffic


def test_busy_while_a_request_runs_and_a_moment_after() -> None:
    traffic = Traffic(quiet_after=0.2)
    assert traffic.quiet()
    traffic.started()
    assert traffic.busy()
    traffic.ended()
    assert traffic.busy() and traffic.served == 1
    time.sleep(0.25)
    assert traffic.quiet()


def test_the_middleware_counts_each_request_also_a_failing_one() -> None:
    traffic = Traffic()
    app = FastAPI()
    seen: list[int] = []

    @app.get("/ok")
    def ok() -> dict[str, int]:
        seen.append(traffic.in_flight)
        return {}

    @app.get("/fails")
    def fails() -> None:
        raise RuntimeError("boom")

    app.add_middleware(CountRequests, traffic=traffic)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/ok").status_code == 200
        assert client.get("/fails").status_code == 500
    assert seen == [1] and traffic.in_flight == 0 and traffic.served == 2


def test_waiting_for_quiet_ends_when_quiet_or_after_the_longest_wait() -> None:
    traffic, stop = Traffic(quiet_after=0.1), threading.Event()
    traffic.started()
    started = time.monotonic()
    assert not traffic.wait_for_quiet(stop, longest=0.3)
    assert 0.3 <= time.monotonic() - started < 2
    threading.Timer(0.2, traffic.ended).start()
    started = time.monotonic()
    assert traffic.wait_for_quiet(stop, longest=10)
    assert 0.3 <= time.monotonic() - started < 5  # ended after 0.2 s, then quiet 0.1 s later
    traffic.started()
    stop.set()
    assert not traffic.wait_for_quiet(stop, longest=10)
