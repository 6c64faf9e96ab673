"""Turn errors into the API's JSON error shape."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema

from cxm.core.errors import CxmError, InvalidInput

logger = logging.getLogger("cxm.api")
LIST_FIELDS = {"interactions", "orders", "customers"}
M = TypeVar("M", bound=BaseModel)
F = TypeVar("F", bound=Callable[..., Any])
BODIES: list[type[BaseModel]] = []  # models read by `json_body`, for the OpenAPI document


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


def json_body(model: type[M]) -> Any:
    """A dependency: the request body validated as `model` straight from its JSON text.

    For large batches: pydantic's own JSON parser skips the dict-and-list tree FastAPI builds first (a
    third less time on a 10,000-event batch). Declare it after the auth dependency, so a caller without a
    valid key is refused before the body is read; give the route `openapi_extra=body_docs(model)`.
    """

    async def parse(request: Request) -> M:
        try:
            return model.model_validate_json(await request.body())
        except ValidationError as error:
            raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in error.errors()]) from None

    BODIES.append(model)
    return Depends(parse)


def body_docs(model: type[BaseModel]) -> dict[str, Any]:
    """The OpenAPI request body of a route that reads `model` with `json_body` (FastAPI cannot see it)."""
    schema = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def document_bodies(app: FastAPI) -> None:
    """Add the schemas of the models read with `json_body` to the app's OpenAPI components."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            pairs = [(model, "validation") for model in BODIES]
            _, defs = models_json_schema(pairs, ref_template="#/components/schemas/{model}")  # type: ignore[arg-type]
            document.setdefault("components", {}).setdefault("schemas", {}).update(defs.get("$defs", {}))
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


# Dependencies that read every query parameter with a prefix (a filter on any customer attribute: `attr.tier=gold`).
PREFIXED: dict[Callable[..., Any], str] = {}
ROUTE_PARAMETERS = "cxm_query_parameters"  # the attribute of a route holding the query parameters it reads


def reads_prefixed(prefix: str) -> Callable[[F], F]:
    """Mark a dependency that reads the query parameters starting with `prefix` itself."""

    def mark(call: F) -> F:
        PREFIXED[call] = prefix
        return call

    return mark


def known_parameters_only(request: Request) -> None:
    """Refuse query parameters the route does not read: a misspelt or unsupported filter must not be ignored (the
    figure would silently be that of everything)."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    known: tuple[frozenset[str], tuple[str, ...]] | None = getattr(route, ROUTE_PARAMETERS, None)
    if known is None:  # worked out on the route's first request, and kept on it
        known = _parameters(dependant)
        setattr(route, ROUTE_PARAMETERS, known)
    names, prefixes = known
    unknown = [name for name in request.query_params if name not in names and not name.startswith(prefixes)]
    if unknown:
        raise InvalidInput(f"unknown query parameter '{unknown[0]}'", details={"allowed": sorted(names)})


def _parameters(dependant: Any) -> tuple[frozenset[str], tuple[str, ...]]:
    """The query parameter names a route and its dependencies declare, and the prefixes they read."""
    names = {str(field.alias) for field in dependant.query_params}
    prefixes = {PREFIXED[dependant.call]} if dependant.call in PREFIXED else set()
    for inner in dependant.dependencies:
        more, starts = _parameters(inner)
        names |= more
        prefixes |= set(starts)
    return frozenset(names), tuple(sorted(prefixes))


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that give every error the same JSON shape."""
    app.add_exception_handler(RequestValidationError, _validation_failed)
    app.add_exception_handler(CxmError, _cxm_error)
    app.add_exception_handler(Exception, _unexpected)
