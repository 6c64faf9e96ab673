"""Turn errors into the API's JSON error shape."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from cxm.core.errors import CxmError

logger = logging.getLogger("cxm.api")
LIST_FIELDS = {"interactions", "orders", "customers"}


def _problem(error: dict[str, Any]) -> dict[str, Any]:
    location = [part for part in error.get("loc", ()) if part != "body"]
    problem: dict[str, Any] = {"message": error.get("msg", "invalid")}
    if len(location) >= 2 and location[0] in LIST_FIELDS and isinstance(location[1], int):
        problem["index"] = location[1]
        location = location[2:]
    problem["field"] = ".".join(str(part) for part in location) or None
    return problem


async def _validation_failed(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    problems = [_problem(dict(e)) for e in error.errors()]
    indexes = sorted({p["index"] for p in problems if "index" in p})
    message = f"{len(problems)} invalid field(s)"
    if indexes:
        message += f" in item(s) {', '.join(map(str, indexes[:20]))}; nothing was stored"
    body = {"error": {"code": "invalid_input", "message": message, "details": problems}}
    return JSONResponse(status_code=422, content=body)


async def _cxm_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, CxmError)
    return JSONResponse(status_code=error.status_code, content=error.to_dict())


async def _unexpected(_request: Request, error: Exception) -> JSONResponse:
    logger.exception("unhandled error", exc_info=error)
    body = {"error": {"code": "internal_error", "message": "internal error; see the server log", "details": None}}
    return JSONResponse(status_code=500, content=body)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that give every error the same JSON shape."""
    app.add_exception_handler(RequestValidationError, _validation_failed)
    app.add_exception_handler(CxmError, _cxm_error)
    app.add_exception_handler(Exception, _unexpected)
