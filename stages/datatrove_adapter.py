"""``datatrove``: run any datatrove ``PipelineStep`` (a filter, a formatter) on our batches.

For users with datatrove steps of their own, or rules we do not ship. Rows become datatrove
``Document``s (``text``, ``id``, and the columns named in ``metadata_columns`` as metadata) and back:

* a filter (a ``BaseFilter``) is asked about every document through its ``filter_batch``; documents it
  refuses become rejected rows with its reason (``datatrove:gopher_short_doc``), or ``dropped`` when it
  gives none. Text it rewrites (C4 does) is kept.
* any other step runs through its ``run`` generator; documents it does not yield are dropped with
  reason ``dropped``, and those it yields bring back their text and metadata columns.

This is the per-document Python path by nature (datatrove's own): use it for coverage, and the native
stages (``gopher_quality``, ``c4_quality`` ...) for speed.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np
import pyarrow as pa
from pydantic import Field

from curate.core.registry import register
from curate.core.schema import ID, TEXT
from curate.core.stage import MapStage, Params, Resources, Verdict
from curate.stages.lib.columns import set_column


class DatatroveParams(Params):
    step: str = Field(
        description="Import path of the datatrove step class, e.g. `datatrove.pipeline.filters:GopherQualityFilter`."
    )
    args: dict[str, Any] = Field(default_factory=dict, description="Keyword arguments the step class is built with.")
    metadata_columns: list[str] = Field(
        default_factory=list, description="Columns passed as Document.metadata and written back from it."
    )


def load_step(path: str, args: dict[str, Any]) -> Any:
    """Build the step named ``module:Class`` (or ``module.Class``) with ``args``.

    A recipe names code to run, so only a class that is a datatrove ``PipelineStep`` is built: an import
    path such as ``subprocess:run`` is refused before anything is called. The module is imported from the
    user's own environment (installed packages, their PYTHONPATH); nothing is fetched.
    """
    from datatrove.pipeline.base import PipelineStep

    module, _, cls = path.partition(":") if ":" in path else path.rpartition(".")
    try:
        step_cls = getattr(importlib.import_module(module), cls)
    except (ImportError, AttributeError) as e:
        raise ValueError(f"datatrove: cannot import step {path!r} ({e}); give `module:Class`") from e
    if not (isinstance(step_cls, type) and issubclass(step_cls, PipelineStep)):
        raise ValueError(f"datatrove: {path} is not a datatrove PipelineStep class; the adapter builds only those")
    try:
        return step_cls(**args)
    except TypeError as e:
        raise ValueError(f"datatrove: {path} does not accept args {sorted(args)}: {e}") from e


@register
class DatatroveStep(MapStage):
    name = "datatrove"
    Params = DatatroveParams
    default_resources = Resources(batch_size=512)

    def columns_needed(self) -> tuple[str, ...]:
        return (TEXT, ID, *self.params.metadata_columns)

    def setup(self) -> None:
        self._step = load_step(self.params.step, self.params.args)

    def process(self, batch: pa.Table) -> Verdict:
        from datatrove.pipeline.filters.base_filter import BaseFilter, get_filter_result

        meta_cols = {c: batch.column(c).to_pylist() for c in self.params.metadata_columns}
        docs = [_document(text, str(i), {c: v[k] for c, v in meta_cols.items()})
                for k, (text, i) in enumerate(zip(batch.column(TEXT).to_pylist(), batch.column(ID).to_pylist()))]
        # per-row Python path: datatrove steps work one Document at a time
        n = len(docs)
        keep = np.ones(n, dtype=bool)
        reasons = np.full(n, "", dtype=object)
        if isinstance(self._step, BaseFilter):
            for k, result in enumerate(self._step.filter_batch(docs)):
                ok, why = get_filter_result(result)
                keep[k], reasons[k] = bool(ok), "" if ok else (why or "dropped")
            out_docs = docs
        else:
            yielded = {d.id: d for d in self._step.run(iter(docs), rank=0, world_size=1)}
            keep = np.array([d.id in yielded for d in docs], dtype=bool)
            reasons[~keep] = "dropped"
            out_docs = [yielded.get(d.id, d) for d in docs]
        out = set_column(batch, TEXT, pa.array([d.text for d in out_docs], pa.string()))
        for c in self.params.metadata_columns:
            out = set_column(out, c, pa.array([d.metadata.get(c) for d in out_docs], batch.column(c).type))
        return Verdict(out, keep, reasons)


def _document(text: str | None, doc_id: str, metadata: dict[str, Any]) -> Any:
    from datatrove.data import Document

    return Document(text=text or "", id=doc_id, metadata=metadata)
