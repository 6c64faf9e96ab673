"""Every table that holds rows about a customer, found from the schema itself.

Any table with a `customer_id` foreign key to `customers` belongs to the customer: merges move its
rows, undo moves them back, export reads them and erasure blanks their personal columns (or deletes
the rows of a table marked `info={"erasure": "delete"}`: signals derived from a person's words). Later
domains (responses, cases, ...) join in by having such a column, with no change here.
"""

from __future__ import annotations

from sqlalchemy import Column, Table

from cxm.core.db import Base


def owned_tables() -> list[Table]:
    """Tables whose rows belong to a customer through `customer_id`."""
    tables = []
    for table in Base.metadata.sorted_tables:
        column = table.columns.get("customer_id")
        if column is not None and any(fk.column.table.name == "customers" for fk in column.foreign_keys):
            tables.append(table)
    return tables


def personal_columns(table: Table) -> list[Column[object]]:
    """The columns of `table` marked as personal data."""
    return [column for column in table.columns if column.info.get("personal")]
