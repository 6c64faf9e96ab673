"""Checks and conversions of import columns, vectorised with pyarrow where the data allows it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import TypeAdapter, ValidationError

from cxm.core.bulk import Column
from cxm.core.errors import InvalidInput
from cxm.customers import service as customers_service
from cxm.interactions import lookup
from cxm.interactions.schemas import OrderItemIn

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal(10) ** 12  # 14 digits, 2 of them after the point
ITEMS = TypeAdapter(list[OrderItemIn])
NORMALISED_CACHE = 500_000
Key = customers_service.Key


def is_identity(column: str) -> bool:
    """Whether a column holds an identity (`email`, `phone`, ..., `social:<network>`)."""
    return customers_service.is_identity_kind(column)


Cells = tuple[str | None, ...]


@dataclass
class Checked:
    """Identities already checked in one import: each raw value, and each row's combination of cells.

    A combination of cells is numbered by the key set it normalises to (`KeySets`; a bad one by a number of its
    own, with its reason), so a row's keys are found by Arrow's hashing, without Python per row.
    """

    values: dict[tuple[str, str], Key | str] = field(default_factory=dict)
    sets: customers_service.KeySets = field(default_factory=customers_service.KeySets)
    reasons: dict[int, str] = field(default_factory=dict)
    # identity column names -> the combinations of cells seen (as one text each) and their key sets' numbers
    seen: dict[tuple[str, ...], lookup.SeenTexts] = field(default_factory=dict)

    def bounded(self) -> Checked:
        """Itself, emptied first when it holds too much."""
        if len(self.values) + len(self.sets) > NORMALISED_CACHE:
            self.values.clear()
            self.sets = customers_service.KeySets()  # a new numbering: owners known by number are dropped too
            self.reasons.clear()
            self.seen.clear()
        return self


class Rows:
    """One batch under check: its columns by field name, and the first problem found in each row."""

    def __init__(self, batch: pa.RecordBatch, checked: Checked | None = None) -> None:
        self.batch = batch
        self.size = batch.num_rows
        self.reasons: list[str | None] = [None] * self.size
        self.checked = Checked() if checked is None else checked  # shared by the batches of one import

    def column(self, name: str) -> pa.Array | None:
        """The named column as one array, or None when the file lacks it."""
        index = self.batch.schema.get_field_index(name)
        return None if index < 0 else self.batch.column(index)

    def reject(self, mask: pa.Array, reason: Callable[[int], str]) -> None:
        """Give every row where `mask` is true the reason (unless it already has one)."""
        for index in pc.indices_nonzero(pc.fill_null(mask, False)).to_pylist():
            self.reject_row(index, reason(index))

    def reject_row(self, index: int, reason: str) -> None:
        """Give one row a reason, keeping the first one found."""
        if self.reasons[index] is None:
            self.reasons[index] = reason


def as_text(array: pa.Array) -> pa.Array:
    """The column as strings, empty cells as missing."""
    if not pa.types.is_string(array.type):
        array = pc.cast(array, pa.string())
    return pc.if_else(pc.equal(array, ""), pa.scalar(None, pa.string()), array)


def _missing(rows: Rows, name: str, array: pa.Array | None, required: bool) -> list[Any] | None:
    if array is not None:
        if required:
            rows.reject(pc.is_null(array), lambda _: f"{name}: missing")
        return None
    if required:
        rows.reject(pa.array([True] * rows.size), lambda _: f"{name}: missing")
    return [None] * rows.size


def text(rows: Rows, name: str, *, max_length: int, required: bool = False) -> list[str | None]:
    """A text field, at most `max_length` characters."""
    return python(text_column(rows, name, max_length=max_length, required=required))


def text_column(rows: Rows, name: str, *, max_length: int, required: bool = False) -> Column:
    """Like `text`, kept as an Arrow array where the file has the column."""
    column = rows.column(name)
    array = None if column is None else as_text(column)
    empty = _missing(rows, name, array, required)
    if empty is not None or array is None:
        return empty or []
    rows.reject(pc.greater(pc.utf8_length(array), max_length), lambda _: f"{name}: longer than {max_length} characters")
    return array


def choice(rows: Rows, name: str, allowed: Iterable[str], *, default: str | None = None) -> list[str | None]:
    """A field with a fixed set of values (case and surrounding spaces ignored); `default` when missing."""
    return python(choice_column(rows, name, allowed, default=default))


def choice_column(rows: Rows, name: str, allowed: Iterable[str], *, default: str | None = None) -> Column:
    """Like `choice`, kept as an Arrow array where the file has the column."""
    allowed = sorted(allowed)
    column = rows.column(name)
    if column is None:
        return [default] * rows.size
    array = pc.utf8_lower(pc.utf8_trim_whitespace(as_text(column)))
    shown = ", ".join(allowed)
    unknown = pc.and_(pc.is_valid(array), pc.invert(pc.is_in(array, pa.array(allowed))))
    rows.reject(unknown, lambda i: f"{name}: '{array[i].as_py()}' is not one of {shown}")
    return array if default is None else pc.fill_null(array, default)


def timestamp(rows: Rows, name: str, *, required: bool = False) -> list[datetime | None]:
    """An ISO 8601 timestamp with a time zone (a timestamp without one is rejected), as aware UTC."""
    return python(timestamp_column(rows, name, required=required))


def timestamp_column(rows: Rows, name: str, *, required: bool = False) -> Column:
    """Like `timestamp`, kept as an Arrow array of UTC timestamps where the file's column converts as a whole."""
    column = rows.column(name)
    empty = _missing(rows, name, column, required)
    if empty is not None or column is None:
        return empty or []
    if pa.types.is_timestamp(column.type):
        return _typed_timestamps(rows, name, column)
    array = as_text(column)
    try:
        return pc.cast(array, pa.timestamp("us", tz="UTC"))
    except pa.ArrowInvalid:
        return [_parse_timestamp(rows, name, index, value) for index, value in enumerate(array.to_pylist())]


def python(column: Column) -> list[Any]:
    """A column's values as Python objects (timestamps as aware UTC datetimes)."""
    if not isinstance(column, pa.Array):
        return list(column)
    return _utc_datetimes(column) if pa.types.is_timestamp(column.type) else column.to_pylist()


def python_value(column: Column, index: int) -> Any:
    """One value of a column as a Python object."""
    if isinstance(column, pa.Array):
        return python(column.slice(index, 1))[0]
    return column[index]


def _typed_timestamps(rows: Rows, name: str, column: pa.Array) -> Column:
    if column.type.tz is None:
        rows.reject(pc.is_valid(column), lambda _: f"{name}: timestamp has no time zone")
        return [None] * rows.size
    return pc.cast(column, pa.timestamp("us", tz="UTC"))


def _utc_datetimes(aware: pa.Array) -> list[datetime | None]:
    # numpy turns microsecond timestamps into datetimes ~50x faster than pyarrow's zone-aware to_pylist.
    naive = pc.cast(aware, pa.timestamp("us")).to_numpy(zero_copy_only=False).astype(object)
    return [None if value is None else value.replace(tzinfo=UTC) for value in naive]


def _parse_timestamp(rows: Rows, name: str, index: int, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        rows.reject_row(index, f"{name}: '{value}' is not an ISO 8601 timestamp")
        return None
    if parsed.tzinfo is None:
        rows.reject_row(index, f"{name}: '{value}' has no time zone (add Z or +hh:mm)")
        return None
    return parsed.astimezone(UTC)


def amount(rows: Rows, name: str, *, required: bool = False) -> list[Decimal | None]:
    """A money amount: at most 14 digits, 2 after the point."""
    column = rows.column(name)
    empty = _missing(rows, name, column, required)
    if empty is not None or column is None:
        return empty or []
    return [_decimal(rows, name, index, value) for index, value in enumerate(as_text(column).to_pylist())]


def _decimal(rows: Rows, name: str, index: int, value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        number = Decimal(value.strip())
        valid = number.is_finite() and number == number.quantize(CENT) and abs(number) < MAX_AMOUNT
    except (InvalidOperation, ArithmeticError):
        valid = False
    if not valid:
        rows.reject_row(index, f"{name}: '{value}' is not an amount with at most 2 decimals")
        return None
    return number


def integer(rows: Rows, name: str) -> list[int | None]:
    """A whole number (such as a customer id)."""
    column = rows.column(name)
    if column is None:
        return [None] * rows.size
    return [_integer(rows, name, index, value) for index, value in enumerate(as_text(column).to_pylist())]


def _integer(rows: Rows, name: str, index: int, value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        rows.reject_row(index, f"{name}: '{value}' is not a whole number")
        return None


def currency(rows: Rows, name: str) -> list[str | None]:
    """A three-letter currency code, upper-cased."""
    column = rows.column(name)
    array = None if column is None else pc.utf8_upper(pc.utf8_trim_whitespace(as_text(column)))
    empty = _missing(rows, name, array, True)
    if empty is not None or array is None:
        return empty or []
    values: list[str | None] = array.to_pylist()
    bad = pc.invert(pc.match_substring_regex(array, r"^[A-Z]{3}$"))
    rows.reject(bad, lambda i: f"{name}: '{values[i]}' is not a three-letter currency code")
    return values


def attributes(rows: Rows) -> list[dict[str, Any]]:
    """Free attributes: an `attributes` JSON object column merged with `attr.<name>` columns."""
    names = [name for name in rows.batch.schema.names if name.startswith("attr.")]
    column = rows.column("attributes")
    if column is None:
        try:
            return _shared_attributes(rows, names)
        except TypeError:  # an unhashable cell (a list or an object): one dict per row after all
            pass
    found: list[dict[str, Any]] = [{} for _ in range(rows.size)]
    if column is not None:
        for index, value in enumerate(as_text(column).to_pylist()):
            found[index] = _json(rows, "attributes", index, value, dict) or {}
    for name in names:
        _add_attribute(found, name.removeprefix("attr."), rows.batch.column(name).to_pylist())
    return found


def _shared_attributes(rows: Rows, names: list[str]) -> list[dict[str, Any]]:
    """`attr.<name>` columns as dicts, one shared dict per distinct combination of cells (stored once)."""
    keys = [name.removeprefix("attr.") for name in names]
    columns = [rows.batch.column(name).to_pylist() for name in names]
    seen: dict[tuple[Any, ...], dict[str, Any]] = {}
    found = []
    for cells in zip(*columns, strict=True) if names else [()] * rows.size:
        shared = seen.get(cells)
        if shared is None:
            shared = seen[cells] = {k: v for k, v in zip(keys, cells, strict=True) if v is not None and v != ""}
        found.append(shared)
    return found


def _add_attribute(found: list[dict[str, Any]], key: str, values: list[Any]) -> None:
    for index, value in enumerate(values):
        if value is not None and value != "":
            found[index][key] = value


def _json(rows: Rows, name: str, index: int, value: Any, kind: type) -> Any:
    if value is None:
        return None
    try:
        parsed = orjson.loads(value) if isinstance(value, str) else value
    except orjson.JSONDecodeError:
        parsed = None
    if not isinstance(parsed, kind):
        rows.reject_row(index, f"{name}: not a JSON {'object' if kind is dict else 'list'}")
        return None
    return parsed


def items(rows: Rows, name: str) -> list[list[dict[str, Any]]]:
    """Order items: a JSON list of `{"product_id", "quantity", "unit_price"}` per row."""
    column = rows.column(name)
    if column is None:
        return [[] for _ in range(rows.size)]
    values = column.to_pylist() if pa.types.is_list(column.type) else as_text(column).to_pylist()
    return [_items(rows, name, index, value) for index, value in enumerate(values)]


def _items(rows: Rows, name: str, index: int, value: Any) -> list[dict[str, Any]]:
    parsed = _json(rows, name, index, value, list)
    if not parsed:
        return []
    try:
        return [item.model_dump() for item in ITEMS.validate_python(parsed)]
    except ValidationError as error:
        first = error.errors()[0]
        rows.reject_row(index, f"{name}: item {first['loc'][0]}: {first['msg']}")
        return []


def _normalise(kind: str, value: str) -> Key | str:
    try:
        return customers_service.normalise(kind, value)
    except InvalidInput as error:
        return error.message


def identity_keys(rows: Rows, *, required: bool) -> customers_service.RecordKeys:
    """The normalised identities of each row, from its identity columns (each distinct combination checked once)."""
    names = tuple(name for name in rows.batch.schema.names if is_identity(name))
    checked = rows.checked.bounded()
    cells = [as_text(rows.batch.column(name)) for name in names]
    codes = _key_set_codes(checked, names, cells, rows.size)
    for index in np.flatnonzero(np.isin(codes, list(checked.reasons))).tolist():
        rows.reject_row(index, checked.reasons[int(codes[index])])
    if required:
        for index in np.flatnonzero(codes == checked.sets.code_of(())).tolist():
            rows.reject_row(index, "no identity (email, phone, external_id, ...) given")
    return customers_service.RecordKeys(checked.sets, codes)


def _key_set_codes(checked: Checked, names: tuple[str, ...], cells: list[pa.Array], size: int) -> npt.NDArray[np.int64]:
    """Each row's key set number: combinations seen before found at once, new ones checked once each."""
    if not names:
        return np.full(size, checked.sets.code_of(()), np.int64)
    texts = lookup.combined(cells)
    hashes = lookup.text_hashes(texts)
    seen = checked.seen.setdefault(names, lookup.SeenTexts())
    codes = seen.find(texts, hashes)
    new = np.flatnonzero(codes < 0)
    if len(new):
        first, new_codes = _checked_combinations(checked, names, [c.take(new).to_pylist() for c in cells])
        codes[new] = new_codes
        seen.add(texts.take(new[first]), hashes[new[first]], new_codes[first])
    return codes


def _checked_combinations(
    checked: Checked, names: tuple[str, ...], columns: list[list[str | None]]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Key set numbers of rows with combinations not seen before; the position of each combination's first row."""
    numbered: dict[Cells, int] = {}
    first: list[int] = []
    codes: list[int] = []
    for index, cells in enumerate(zip(*columns, strict=True)):
        code = numbered.get(cells)
        if code is None:
            code = numbered[cells] = _key_set_code(checked, names, cells)
            first.append(index)
        codes.append(code)
    return np.asarray(first, np.int64), np.asarray(codes, np.int64)


def _key_set_code(checked: Checked, names: tuple[str, ...], cells: Cells) -> int:
    """The number of a combination's key set; a bad combination gets a number of its own, with its reason."""
    found = _checked_keys(checked, names, cells)
    if isinstance(found, tuple):
        return checked.sets.code_of(found)
    code = checked.sets.unshared()
    checked.reasons[code] = found
    return code


def _checked_keys(checked: Checked, names: tuple[str, ...], cells: Cells) -> tuple[Key, ...] | str:
    """A row's sorted unique keys, or the reason its first bad identity is bad."""
    found: set[Key] = set()
    for kind, value in zip(names, cells, strict=True):
        if value is not None:
            key = checked.values.get((kind, value))
            if key is None:
                key = checked.values[kind, value] = _normalise(kind, value)
            if isinstance(key, str):
                return f"{kind}: {key}"
            found.add(key)
    return tuple(sorted(found))
