"""Column helpers shared by the scoring stages."""

from __future__ import annotations

import pyarrow as pa


def set_column(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    """Add a column, or replace it where an earlier step wrote one of the same name (re-scoring)."""
    if name in table.column_names:
        return table.set_column(table.column_names.index(name), name, values)
    return table.append_column(name, values)
