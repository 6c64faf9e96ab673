"""What protects browser forms: double-submit CSRF tokens and per-address rate limits (survey pages, sign-in)."""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque

from itsdangerous import BadSignature, URLSafeTimedSerializer

CSRF_MAX_AGE = 24 * 3600


def new_csrf_cookie() -> str:
    """A fresh random value for a CSRF cookie."""
    return secrets.token_urlsafe(24)


def csrf_token(secret: str, cookie: str, *, salt: str = "cxm.survey-csrf") -> str:
    """The form token that goes with a CSRF cookie (a signed copy of it, valid for a day)."""
    return str(URLSafeTimedSerializer(secret, salt=salt).dumps(cookie))


def csrf_valid(secret: str, cookie: str | None, token: str | None, *, salt: str = "cxm.survey-csrf") -> bool:
    """Whether a posted form token was made for this browser's CSRF cookie, within a day."""
    if not cookie or not token:
        return False
    try:
        signed = URLSafeTimedSerializer(secret, salt=salt).loads(token, max_age=CSRF_MAX_AGE)
    except BadSignature:
        return False
    return isinstance(signed, str) and secrets.compare_digest(signed, cookie)


class SubmissionLimit:
    """At most `limit` submissions per client address in a sliding window, counted in this process only."""

    def __init__(self, limit: int, window_seconds: float = 60.0) -> None:
        self.limit = limit
        self.window = window_seconds
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, client: str, now: float | None = None) -> bool:
        """Count one submission from `client`; False when it is over the limit."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if len(self._seen) > 10_000:
                self._forget_idle(now)
            times = self._seen.setdefault(client, deque())
            while times and times[0] <= now - self.window:
                times.popleft()
            if len(times) >= self.limit:
                return False
            times.append(now)
            return True

    def blocked(self, client: str, now: float | None = None) -> bool:
        """Whether `client` is over the limit now, without counting anything."""
        now = time.monotonic() if now is None else now
        with self._lock:
            times = self._seen.get(client, deque())
            return sum(1 for t in times if t > now - self.window) >= self.limit

    def _forget_idle(self, now: float) -> None:
        idle = [client for client, times in self._seen.items() if not times or times[-1] <= now - self.window]
        for client in idle:
            del self._seen[client]
