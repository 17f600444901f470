"""``paragraph_dedup``: remove paragraphs (or lines) that repeat across many documents of the corpus.

Web pages share boilerplate that whole-document dedup cannot see: cookie banners, navigation blocks,
"subscribe to our newsletter", legal footers. This stage finds every paragraph (split on blank lines, or
every line with ``unit: line``) that occurs in at least ``min_docs`` documents and removes it everywhere
except its first occurrence in input order (``keep_first``), or everywhere. Paragraphs are compared
trimmed, with whitespace runs collapsed, by xxhash64; those shorter than ``min_chars`` are never touched.
A document left with fewer than ``min_remaining_chars`` characters is dropped (``too_little_text_left``);
every document gets ``para_dedup_chars_removed``.

A global stage in three steps:

* **summarize** (per unit, on the workers): one row per distinct long paragraph of each document
  (``hash``, ``_row``): 16 bytes per paragraph on disk.
* **reduce** (parallel tasks on the workers, :mod:`curate.stages.lib.paragraph_counts`): a shuffle by hash
  partition counts the documents of each paragraph; the driver holds per-unit plans only.
* **apply** (per unit): reads only this unit's removal rows, and re-splits only the documents they name.

Memory per worker: one batch's paragraphs while summarising; at most 2M (hash, document) rows at a time
in a reduce task (a larger partition or group is read in passes); while applying, one unit plus the
paragraphs of its affected documents.
"""

from __future__ import annotations

import re
from typing import ClassVar, Literal

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from curate.core.registry import register
from curate.core.schema import ROW, TEXT
from curate.core.stage import GlobalStage, GlobalState, Params, Resources, Verdict
from curate.engine.reduce import ReduceJob
from curate.stages.lib import paragraph_counts as counts
from curate.stages.lib import minhash as mh
from curate.stages.lib import text_stats as ts
from curate.stages.lib.columns import set_column
from curate.stages.lib.paragraph_counts import HASH

REMOVED = "para_dedup_chars_removed"
#: Separators, the same in Arrow's RE2 (summarize, apply) and Python's re (rebuilding a document's text):
#: a blank line is a newline, then one or more (horizontal whitespace, newline).
SEPARATORS = {"paragraph": r"\n(?:[ \t\r\f\v]*\n)+", "line": r"\n"}


class ParagraphDedupParams(Params):
    unit: Literal["paragraph", "line"] = Field(
        "paragraph", description="paragraph: pieces split on blank lines; line: every line is a piece."
    )
    min_docs: int = Field(
        3,
        ge=2,
        description="A piece in at least this many documents is boilerplate. 3, not 2: a paragraph two pages "
        "share is as often a quotation or a syndicated story (minhash_dedup judges those whole) as boilerplate, "
        "while banners and navigation repeat across many pages of a site.",
    )
    keep_first: bool = Field(True, description="Keep a boilerplate piece in its first document in input order; false: remove it everywhere.")
    min_chars: int = Field(30, ge=1, description="Pieces shorter than this (after trimming) are never removed.")
    min_remaining_chars: int = Field(
        200, ge=0, description="too_little_text_left: drop a document that had pieces removed and keeps fewer characters."
    )
    seed: int = Field(0, description="Seed of the paragraph hash (xxhash64).")
    partitions: int | None = Field(
        None,
        ge=1,
        description="Hash partitions of the counting reduce (parallel tasks); None: one per 10M paragraphs, rounded "
        "up to a multiple of the workers. More partitions: more, smaller shuffle files and fewer passes per task (a "
        "task holds at most 2M rows at a time either way); never changes the result.",
    )


def piece_hashes(text: pa.Array, separator: str, min_chars: int, seed: int) -> tuple[ts.Pieces, np.ndarray, np.ndarray]:
    """The pieces of every document, their xxhash64 (normalised text) and whether each is long enough."""
    pieces = ts.split_on(text, separator)
    norm = pc.utf8_trim_whitespace(pc.replace_substring_regex(pieces.values, r"\s+", " "))
    long = pc.utf8_length(norm).to_numpy(zero_copy_only=False) >= min_chars
    return pieces, mh.token_hashes(norm, seed), long


def rebuild(text: str, drop: np.ndarray, splitter: re.Pattern) -> str:
    """``text`` without the pieces flagged in ``drop``; kept pieces keep the separator that followed them."""
    parts = splitter.split(text)
    paras, seps = parts[0::2], parts[1::2] + [""]
    if len(paras) != len(drop):
        raise RuntimeError(f"paragraph_dedup: split into {len(paras)} pieces here but {len(drop)} in Arrow; report this document")
    kept = [(p, s) for p, s, d in zip(paras, seps, drop) if not d]
    return "".join(p + s for p, s in kept[:-1]) + kept[-1][0] if kept else ""


@register
class ParagraphDedup(GlobalStage):
    name = "paragraph_dedup"
    Params = ParagraphDedupParams
    needs = (TEXT,)
    adds: ClassVar[dict[str, pa.DataType]] = {REMOVED: pa.int64()}
    default_resources = Resources(batch_size=4096)
    params: ParagraphDedupParams

    def _pieces(self, text: pa.Array) -> tuple[ts.Pieces, np.ndarray, np.ndarray]:
        p = self.params
        return piece_hashes(text, SEPARATORS[p.unit], p.min_chars, p.seed)

    def summarize(self, batch: pa.Table) -> pa.Table:
        pieces, hashes, long = self._pieces(ts.as_array(batch.column(TEXT)))
        frame = pl.DataFrame({HASH: pl.Series(hashes[long], dtype=pl.UInt64), ROW: pieces.doc[long]})
        # a piece repeated inside one document counts once: the reduce counts documents
        return frame.unique(maintain_order=True).to_arrow().cast(pa.schema([(HASH, pa.uint64()), (ROW, pa.int64())]))

    def reduce_job(self, job: ReduceJob) -> None:
        p = self.params
        counts.run(job, counts.plan(job, p.min_docs, p.keep_first, p.partitions))

    def apply(self, batch: pa.Table, state: GlobalState) -> Verdict:
        removals = state.for_unit()
        n = batch.num_rows
        removed = np.zeros(n, dtype=np.int64)
        keep = np.ones(n, dtype=bool)
        if removals.num_rows == 0:
            return Verdict(set_column(batch, REMOVED, pa.array(removed)), keep, None)
        text = ts.as_array(batch.column(TEXT))
        rows = np.unique(removals.column(ROW).to_numpy())
        pieces, hashes, long = self._pieces(text.take(pa.array(rows)))
        listed = pl.DataFrame({"doc": np.searchsorted(rows, removals.column(ROW).to_numpy()), HASH: removals.column(HASH).to_numpy()})
        flat = pl.DataFrame({"doc": pieces.doc, HASH: pl.Series(hashes, dtype=pl.UInt64), "i": np.arange(len(hashes))})
        hit = flat.join(listed, on=["doc", HASH], how="semi").get_column("i").to_numpy()
        drop = np.zeros(len(hashes), dtype=bool)
        drop[hit] = True
        drop &= long  # a short piece never goes, even if its hash matches a long one
        starts = np.searchsorted(pieces.doc, np.arange(len(rows) + 1))
        splitter = re.compile(f"({SEPARATORS[self.params.unit]})")
        originals = text.take(pa.array(rows)).to_pylist()
        # per-row Python path, over the affected documents only: reassemble the kept pieces with their separators
        new = [rebuild(t, drop[starts[j] : starts[j + 1]], splitter) for j, t in enumerate(originals)]
        removed[rows] = [len(t) - len(s) for t, s in zip(originals, new)]
        left = np.array([len(s.strip()) for s in new], dtype=np.int64)
        short = (removed[rows] > 0) & (left < self.params.min_remaining_chars)
        keep[rows[short]] = False
        changed = np.zeros(n, dtype=bool)
        changed[rows[~short]] = True  # dropped documents keep their original text in rejected/
        original = batch.column(TEXT).combine_chunks()  # nulls stay null where nothing changes
        values = pa.array([s for s, dropped in zip(new, short) if not dropped], original.type)
        out = set_column(batch, TEXT, pc.replace_with_mask(original, pa.array(changed), values))
        reasons = np.where(keep, None, "too_little_text_left")
        return Verdict(set_column(out, REMOVED, pa.array(removed)), keep, reasons)
