"""A customer's free attribute read as text in SQL, the same text the analytics engines show for it.

`true` / `false` for booleans and numbers as JSON writes them, on SQLite and PostgreSQL alike (SQLite's own
`json_extract` turns `true` into 1), so a filter the dashboard sends to analytics and to the operational lists
(`tier=gold`, `vip=true`) picks the same people in both.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class AttributeText(FunctionElement[str]):
    """attribute_text(column, key): one key of a JSON object column as text (NULL where absent)."""

    type = String()
    inherit_cache = True
    name = "attribute_text"

    def __init__(self, column: Any, key: str) -> None:
        super().__init__(column, f'$."{key}"', key)


def _parts(element: AttributeText, compiler: SQLCompiler, **kw: Any) -> list[str]:
    return [compiler.process(part, **kw) for part in element.clauses]


@compiles(AttributeText, "sqlite")
def _sqlite(element: AttributeText, compiler: SQLCompiler, **kw: Any) -> str:
    column, path, _ = _parts(element, compiler, **kw)
    kind = f"json_type({column}, {path})"
    value = f"CAST(json_extract({column}, {path}) AS TEXT)"
    return f"CASE {kind} WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE {value} END"


@compiles(AttributeText, "postgresql")
def _postgresql(element: AttributeText, compiler: SQLCompiler, **kw: Any) -> str:
    column, _, key = _parts(element, compiler, **kw)
    return f"json_extract_path_text({column}, {key})"
