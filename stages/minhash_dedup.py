"""``minhash_dedup``: drop near-duplicates (MinHash + LSH), keeping the first document of each cluster.

Three global-stage steps (see :mod:`curate.stages.lib.minhash` for the building blocks, docs/dedup.md for
how this scales to a billion documents):

* **summarize** (per unit, on the workers): signatures and LSH band keys, written as Parquet by the
  pipeline. These files are the expensive part, so a killed run keeps every finished unit's signatures.
* **reduce** (parallel tasks on the workers, :mod:`curate.stages.lib.minhash_clusters`): band rows are
  shuffled by key so each bucket meets in one partition, candidate pairs are verified by signature
  Jaccard ≥ ``threshold`` (so chains of weak matches do not glue unrelated documents), and connected
  components are found by star contraction. The first document in input order (``_unit``, ``_row``) of a
  cluster is kept; the others are dropped with ``dup_of=<kept id>``.
* **apply** (per unit): drop listed rows; every kept document gets ``dup_cluster`` (the kept document's
  id) and ``dup_cluster_size``.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field, model_validator

from curate.core.registry import register
from curate.core.schema import ID, ROW, TEXT
from curate.core.stage import GlobalStage, GlobalState, Params, Resources, Verdict
from curate.engine.reduce import ReduceJob
from curate.stages.lib import minhash as mh
from curate.stages.lib import minhash_clusters as clusters
from curate.stages.lib.columns import set_column
from curate.stages.lib.minhash_clusters import CLUSTER, CLUSTER_SIZE, SIG

_SLICE = 4096  # documents shingled at once inside summarize (bounds memory for big units)


class MinhashDedupParams(Params):
    threshold: float = Field(0.8, gt=0, lt=1, description="Jaccard similarity at or above which documents are duplicates.")
    ngram: int = Field(5, ge=1, description="Words per shingle for languages written with spaces.")
    char_ngram: int = Field(5, ge=1, description="Characters per shingle for zh / ja / ko (see `tokenize`).")
    tokenize: Literal["auto", "words", "chars"] = Field(
        "auto",
        description="auto: character shingles where `lang` is in `char_langs` (or, without a `lang` value, "
        "where over 30% of characters are CJK), word shingles elsewhere; words / chars: force one kind.",
    )
    char_langs: tuple[str, ...] = Field(("zh", "ja", "ko"), description="Languages shingled by characters.")
    num_perm: int = Field(128, ge=8, le=1024, description="MinHash permutations (signature length).")
    bands: int | None = Field(None, ge=1, description="LSH bands; None: chosen with `rows` by datasketch's optimal_param.")
    rows: int | None = Field(None, ge=1, description="Signature values per band; None: chosen with `bands`.")
    false_positive_weight: float = Field(
        0.1, ge=0, le=1, description="Weight of LSH false positives when choosing bands (verification removes them)."
    )
    verify: bool = Field(True, description="Union a candidate pair only if its signature Jaccard ≥ threshold.")
    bucket_window: int = Field(
        64, ge=1, description="In a bucket, pair each document with the next this many (caps huge buckets' cost)."
    )
    seed: int | None = Field(None, description="Seed of the hash functions; None: the recipe's seed.")
    partitions: int | None = Field(
        None,
        ge=1,
        description="Hash partitions of the clustering reduce (parallel tasks per step); None: one per million "
        "documents, rounded up to a multiple of the workers. More partitions: more, smaller shuffle files and fewer "
        "passes per task (a task holds at most 2M rows, or 100k pairs with signatures, at a time either way); never "
        "changes the result.",
    )

    @model_validator(mode="after")
    def _bands_fit(self) -> "MinhashDedupParams":
        if (self.bands is None) != (self.rows is None):
            raise ValueError("set both `bands` and `rows`, or neither (then optimal_param picks them)")
        if self.bands is not None and self.bands * self.rows > self.num_perm:
            raise ValueError(f"bands × rows = {self.bands * self.rows} exceeds num_perm = {self.num_perm}")
        return self


@register
class MinhashDedup(GlobalStage):
    name = "minhash_dedup"
    Params = MinhashDedupParams
    needs = (ID, TEXT)
    adds: ClassVar[dict[str, pa.DataType]] = {CLUSTER: pa.string(), CLUSTER_SIZE: pa.int32()}
    default_resources = Resources(batch_size=4096)
    params: MinhashDedupParams

    def lsh_shape(self) -> tuple[int, int]:
        """(bands, rows) in use."""
        p = self.params
        if p.bands is not None and p.rows is not None:
            return p.bands, p.rows
        return mh.lsh_shape(p.threshold, p.num_perm, p.false_positive_weight, 1 - p.false_positive_weight)

    def _seed(self) -> int:
        return self.params.seed if self.params.seed is not None else self.seed

    def char_rows(self, batch: pa.Table) -> np.ndarray:
        """True for documents shingled by characters (see the ``tokenize`` parameter)."""
        p = self.params
        if p.tokenize != "auto":
            return np.full(batch.num_rows, p.tokenize == "chars")
        known = np.zeros(batch.num_rows, dtype=bool)
        chars = np.zeros(batch.num_rows, dtype=bool)
        if "lang" in batch.column_names:
            lang = pc.utf8_lower(pc.cast(batch.column("lang"), pa.string()))
            primary = pc.list_element(pc.split_pattern_regex(lang, r"[-_]"), 0)
            known = pc.is_valid(lang).to_numpy(zero_copy_only=False)
            chars = pc.fill_null(pc.is_in(primary, pa.array(list(p.char_langs))), False).to_numpy(zero_copy_only=False)
        unknown = np.flatnonzero(~known)
        if len(unknown):
            chars[unknown] = mh.cjk_share(batch.column(TEXT).take(pa.array(unknown))) > 0.3
        return chars

    def signatures(self, batch: pa.Table) -> np.ndarray:
        """MinHash signatures ``[rows, num_perm]`` of a batch (uint32)."""
        seed, p = self._seed(), self.params
        a, b = mh.permutations(p.num_perm, seed)
        sig = np.empty((batch.num_rows, p.num_perm), dtype=np.uint32)
        chars = self.char_rows(batch)
        for rows, n, split in ((np.flatnonzero(~chars), p.ngram, mh.word_tokens), (np.flatnonzero(chars), p.char_ngram, mh.char_tokens)):
            for start in range(0, len(rows), _SLICE):
                part = rows[start : start + _SLICE]
                values, offsets = split(batch.column(TEXT).take(pa.array(part)))
                shingles, shingle_offsets = mh.shingle_hashes(mh.token_hashes(values, seed), offsets, n)
                sig[part] = mh.signatures(shingles, shingle_offsets, a, b)
        return sig

    def summarize(self, batch: pa.Table) -> pa.Table:
        bands, rows = self.lsh_shape()
        sig = self.signatures(batch)
        empty = (sig == np.iinfo(np.uint32).max).all(axis=1)  # no shingle: never a candidate
        keys = mh.band_hashes(sig, bands, rows)
        columns = {ID: batch.column(ID)}
        for k in range(bands):
            columns[f"band_{k}"] = pa.array(keys[:, k], pa.uint64(), mask=empty)
        if self.params.verify:
            width = 4 * self.params.num_perm
            columns[SIG] = pa.FixedSizeBinaryArray.from_buffers(
                pa.binary(width), len(sig), [None, pa.py_buffer(np.ascontiguousarray(sig).tobytes())]
            )
        return pa.table(columns)

    def reduce_job(self, job: ReduceJob) -> None:
        p = self.params
        bands, _ = self.lsh_shape()
        plan = clusters.plan(job, bands, p.num_perm, p.threshold, p.verify, p.bucket_window, p.partitions)
        clusters.run(job, plan)

    def apply(self, batch: pa.Table, state: GlobalState) -> Verdict:
        rows_state = state.for_unit()
        n = batch.num_rows
        keep = np.ones(n, dtype=bool)
        reasons = np.empty(n, dtype=object)
        cluster = np.asarray(pc.cast(batch.column(ID), pa.string()).to_pylist(), dtype=object)
        size = np.ones(n, dtype=np.int32)
        if rows_state.num_rows:
            rows = rows_state.column(ROW).to_numpy()
            dup_of = rows_state.column("dup_of")
            dropped = pc.is_valid(dup_of).to_numpy(zero_copy_only=False)
            keep[rows[dropped]] = False
            reasons[rows[dropped]] = [f"dup_of={d}" for d in pc.filter(dup_of, pa.array(dropped)).to_pylist()]
            cluster[rows] = rows_state.column(CLUSTER).to_pylist()
            size[rows] = rows_state.column(CLUSTER_SIZE).to_numpy()
        out = set_column(batch, CLUSTER, pa.array(cluster, pa.string()))
        return Verdict(set_column(out, CLUSTER_SIZE, pa.array(size, pa.int32())), keep, reasons)

