"""Turn the ``synthesize`` stage's list column into one document per output.

``synthesize`` keeps one row per source document and stores its outputs in a list column (``synth``);
the ``explode_synth`` stage (an :class:`~curate.core.stage.ExpandStage`) then makes each output a document of
its own, so one recipe run writes the synthetic corpus directly: kept outputs in ``data/``, rejected ones in
``rejected/`` with ``drop_reason`` = ``explode_synth:REASON`` (the reason the post-processing gave).

Output columns: ``id`` (xxhash of source id, task and chunk), ``text``, ``source_id``, ``task``, ``kind``
(``rewrite`` / ``cot``: what a mixture weights apart), ``prompt_version``, ``chunk``, ``model``,
``sampling`` (JSON), ``seed``, ``tokens``, then the source document's other columns (``url``,
``quality_bucket`` …) as they were.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xxhash

from curate.core.schema import ID, TEXT

_PROVENANCE = ("task", "prompt_version", "chunk", "model", "sampling", "seed", "tokens")


def explode_outputs(table: pa.Table, column: str = "synth") -> tuple[pa.Table, np.ndarray, pa.Array]:
    """(one row per output, keep mask, reason per output) of a batch that went through ``synthesize``."""
    if column not in table.column_names:
        raise ValueError(f"no `{column}` column: put the `synthesize` stage before `explode_synth`")
    lists = table.column(column).combine_chunks()
    parents = pc.list_parent_indices(lists)
    items = pc.list_flatten(lists)
    carried = [c for c in table.column_names if c not in (ID, TEXT, column)]
    source = table.select([ID] + carried).take(parents).rename_columns(["source_id"] + carried)
    fields = {name: items.field(name) for name in OUTPUT_FIELDS}
    task = fields["task"]
    ids = pa.array(
        [
            xxhash.xxh64_hexdigest(f"{s}\x00{t}\x00{c}".encode())
            for s, t, c in zip(source.column("source_id").to_pylist(), task.to_pylist(), fields["chunk"].to_pylist())
        ],
        pa.string(),
    )
    kind = pc.if_else(pc.equal(task, "cot_template"), "cot", "rewrite")
    out = pa.table({ID: ids, TEXT: fields["text"], "source_id": source.column("source_id"), "kind": kind})
    for name in _PROVENANCE:
        out = out.append_column(name, fields[name])
    for name in carried:
        if name not in out.column_names:
            out = out.append_column(name, source.column(name))
    keep = pc.is_null(fields["drop_reason"]).to_numpy(zero_copy_only=False)
    return out, keep, fields["drop_reason"]


OUTPUT_FIELDS = ("task", "prompt_version", "chunk", "text", "tokens", "finish", "drop_reason", "model", "sampling", "seed")
