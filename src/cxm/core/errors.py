"""Errors that carry their HTTP status, and their JSON shape."""

from __future__ import annotations

from typing import Any


class CxmError(Exception):
    """Base of every expected failure; the API turns it into a JSON error."""

    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        """The `{"error": {...}}` body of this error."""
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class NotFound(CxmError):
    """The thing asked for does not exist."""

    status_code = 404
    code = "not_found"


class InvalidInput(CxmError):
    """Input failed validation; details list each problem."""

    status_code = 422
    code = "invalid_input"


class Conflict(CxmError):
    """The request conflicts with the current state."""

    status_code = 409
    code = "conflict"


class Unauthorized(CxmError):
    """No valid credentials were given."""

    status_code = 401
    code = "unauthorized"


class Forbidden(CxmError):
    """The caller's role does not allow this."""

    status_code = 403
    code = "forbidden"
