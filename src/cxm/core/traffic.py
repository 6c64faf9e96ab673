"""How busy the server is: requests in flight and when the last one ended, for the worker to give way to them."""

from __future__ import annotations

import threading
import time
from typing import Any

QUIET_AFTER = 0.25  # seconds without a request before the server counts as quiet
Scope = dict[str, Any]


class Traffic:
    """Counts the HTTP requests in flight; `busy` while one runs or one ended less than `quiet_after` ago."""

    def __init__(self, quiet_after: float = QUIET_AFTER) -> None:
        self.quiet_after = quiet_after
        self.in_flight = 0
        self.last_ended = -float("inf")
        self.served = 0
        self._lock = threading.Lock()

    def started(self) -> None:
        """A request began."""
        with self._lock:
            self.in_flight += 1

    def ended(self) -> None:
        """A request finished (answered or failed)."""
        with self._lock:
            self.in_flight -= 1
            self.served += 1
            self.last_ended = time.monotonic()

    def busy(self) -> bool:
        """Whether a request runs now or ended a moment ago (the next one of a client is likely on its way)."""
        return self.in_flight > 0 or time.monotonic() - self.last_ended < self.quiet_after

    def quiet(self) -> bool:
        """Whether no request runs now nor ended a moment ago."""
        return not self.busy()

    def wait_for_quiet(self, stop: threading.Event, longest: float, step: float = 0.05) -> bool:
        """Wait until the server is quiet, `stop` is set, or `longest` seconds passed; whether it got quiet."""
        deadline = time.monotonic() + longest
        while self.busy():
            if stop.is_set() or time.monotonic() >= deadline:
                return False
            stop.wait(step)
        return True


class CountRequests:
    """ASGI middleware that keeps `traffic` up to date for every HTTP request."""

    def __init__(self, app: Any, traffic: Traffic) -> None:
        self.app = app
        self.traffic = traffic

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        """Count the request around the app's handling of it."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.traffic.started()
        try:
            await self.app(scope, receive, send)
        finally:
            self.traffic.ended()
