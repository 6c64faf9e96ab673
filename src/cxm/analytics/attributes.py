"""Customer attributes (the free JSON traits of a profile) as dimensions: `attr.<name>` breaks down and filters by one.

A value is shown as text: strings as they are, numbers and booleans as JSON writes them (`3`, `2.5`, `true`),
objects and arrays as JSON text; a customer without the attribute (or with `null`) is `(none)`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import ibis
import ibis.expr.datatypes as dt
from ibis.expr.types import Table

from cxm.core.errors import InvalidInput

PREFIX = "attr."
KEY = re.compile(r"^[\w-]{1,64}$")


def is_attribute(name: str) -> bool:
    """Whether a dimension names a customer attribute."""
    return name.startswith(PREFIX)


def attribute_key(name: str) -> str:
    """The attribute a dimension names (`attr.tier` -> `tier`), refused unless letters, digits, `_` or `-`."""
    key = name.removeprefix(PREFIX)
    if not KEY.match(key):
        raise InvalidInput(
            f"cannot break down or filter by '{name}': an attribute name is 1-64 letters, digits, '_' or '-'",
            details={"example": "attr.tier"},
        )
    return key


# Ibis' own JSON unwrapping differs by engine (SQLite's `.str` is malformed SQL, PostgreSQL's a syntax error, Spark
# reads the lake's JSON as a plain string): each engine's own JSON-to-text function gives the same text everywhere.
@ibis.udf.scalar.builtin(name="json_extract_string")  # type: ignore[untyped-decorator]
def _duckdb_text(value: dt.JSON, path: str) -> str:  # type: ignore[empty-body]
    """DuckDB: the value at a JSON path as text."""


@ibis.udf.scalar.builtin(name="json_extract_path_text")  # type: ignore[untyped-decorator]
def _postgres_text(value: dt.JSON, key: str) -> str:  # type: ignore[empty-body]
    """PostgreSQL: the value of a key as text."""


@ibis.udf.scalar.builtin(name="get_json_object")  # type: ignore[untyped-decorator]
def _spark_text(value: str, path: str) -> str:  # type: ignore[empty-body]
    """Spark: the value at a JSON path as text."""


@ibis.udf.scalar.builtin(name="json_extract")  # type: ignore[untyped-decorator]
def _sqlite_value(value: dt.JSON, path: str) -> dt.JSON:
    """SQLite: the value at a JSON path as an SQL value (booleans become 1 and 0)."""


@ibis.udf.scalar.builtin(name="json_type")  # type: ignore[untyped-decorator]
def _sqlite_type(value: dt.JSON, path: str) -> str:  # type: ignore[empty-body]
    """SQLite: the JSON type of the value at a path."""


def _sqlite_text(value: Any, path: str) -> Any:
    kind = _sqlite_type(value, path)
    return ibis.cases(
        (kind == "true", "true"), (kind == "false", "false"), else_=_sqlite_value(value, path).cast("string")
    )


def attribute_text(column: Any, key: str) -> Any:
    """One attribute of a JSON column of attributes, as text (NULL where absent or null), on any engine."""
    backend = column._find_backend().name
    path = f'$."{key}"'
    texts: dict[str, Callable[[], Any]] = {
        "duckdb": lambda: _duckdb_text(column, path),
        "postgres": lambda: _postgres_text(column, key),
        "pyspark": lambda: _spark_text(column, f"$['{key}']"),
        "sqlite": lambda: _sqlite_text(column, path),
    }
    if backend not in texts:
        raise InvalidInput(f"customer attributes are not a dimension on the {backend} engine")
    return texts[backend]()


def with_attributes(table: Table, tables: Callable[[str], Table], names: Sequence[str]) -> Table:
    """Facts with a column per named customer attribute (from the customers fact; erased people have none)."""
    people = tables("customers")
    found = {name: attribute_text(people.attributes, attribute_key(name)) for name in names}
    people = people.select(attribute_owner=people.customer_id, **found)
    joined = table.left_join(people, table.customer_id == people.attribute_owner)
    return joined.select(table, *[joined[name] for name in names])
