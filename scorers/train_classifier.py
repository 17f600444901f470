"""``curate train-classifier``: train a fastText classifier from labelled Parquet / JSONL.

Two ways to give labels:

* positive and negative sets (DCLM style: instruction-like or reference text vs random web)::

      curate train-classifier --positive hq/*.parquet --negative web/*.jsonl.gz -o models/quality.bin

* one labelled set with a label column (a domain classifier)::

      curate train-classifier --data labelled/*.parquet --label-column domain -o models/domain.bin

The model uses words and word bigrams. A held-out share of each label is scored after training; the
precision and recall per label are printed and saved next to the model (``MODEL.metrics.json``).
A ``.ftz`` output is quantised (about ten times smaller, slightly less accurate).
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from curate.core.errors import InputError


def read_labelled(patterns: list[str], text_column: str, label_column: str | None, fixed_label: str | None) -> tuple[pa.ChunkedArray, list[str]]:
    """Texts and labels from files (Parquet / JSONL, any fsspec path); a fixed label or a label column."""
    from curate.io.readers import ColumnMap, find_inputs, plan_units, read_unit

    files = find_inputs(patterns)
    if not files:
        raise InputError(f"no input files match {patterns}; give Parquet or JSONL files, globs or directories")
    columns = ColumnMap(text_column=text_column)
    texts: list[pa.ChunkedArray] = []
    labels: list[str] = []
    for unit in plan_units(files, columns):
        table, _ = read_unit(unit, columns)
        if fixed_label is not None:
            labels += [fixed_label] * table.num_rows
        else:
            if label_column not in table.column_names:
                raise InputError(
                    f"{unit.path}: no label column {label_column!r} (columns: {table.column_names}); "
                    "set --label-column, or give --positive / --negative sets instead"
                )
            table = table.filter(pc.is_valid(table.column(label_column)))
            labels += [str(x) for x in table.column(label_column).to_pylist()]
        texts.append(table.column("text"))
    return pa.chunked_array([c for t in texts for c in t.chunks], pa.string()), labels
