"""Near-duplicate removal: ours vs datatrove's 4-stage MinHash vs datasketch MinHashLSH, on one corpus.

The corpus comes from the generator the tests use (tests/stages/minhash_fixtures.py): clusters of edited
copies with known Jaccard (≥ 0.87 to their base), near misses (0.3–0.6), English-, French-, German-like
and Chinese text. Every tool sees the same documents in the same order and must keep the first of each
cluster; precision and recall are of the removed documents against the generator's truth. docs/s is end to
end on one process, per CPU-second of it (wall seconds printed too; signatures, candidates, clustering, filtering). ``ours`` is minhash_dedup as shipped
(Arrow normalisation, whitespace words, character shingles for Chinese); ``ours+dt-tok`` is the same
engine fed datatrove's own word split (``simplify_text`` + spaCy, English for every document, as datatrove
runs), so the last line, ``ratio=ours+dt-tok/datatrove``, compares the engines on the same tokens.

    python bench/dedup.py [--clusters 2000] [--unit-rows 4096]
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]


def _fixtures():
    spec = importlib.util.spec_from_file_location("minhash_fixtures", ROOT / "tests/stages/minhash_fixtures.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def datatrove_tokenized():
    """Our minhash_dedup shingling datatrove's words: its ``simplify_text`` and English spaCy tokenizer.

    Bench-only: signatures, LSH, verification and clustering are ours; only the word split is replaced, by
    the reference's own per-document Python, so the comparison measures the engine, not the cheaper
    preprocessing. Every document is word-shingled with the English tokenizer, as datatrove does.
    """
    import pyarrow.compute as pc
    from datatrove.utils.text import simplify_text
    from datatrove.utils.word_tokenizers import load_word_tokenizer

    from curate.stages.lib import minhash as mh
    from curate.stages.minhash_dedup import MinhashDedup

    class DatatroveTokenized(MinhashDedup):
        def signatures(self, batch: pa.Table) -> np.ndarray:
            tokenizer = load_word_tokenizer("en")
            a, b = mh.permutations(self.params.num_perm, self._seed())
            texts = pc.fill_null(batch.column("text"), "").to_pylist()
            words = [tokenizer.word_tokenize(simplify_text(t)) for t in texts]  # per-row Python: the reference's split
            offsets = np.concatenate([[0], np.cumsum([len(w) for w in words])]).astype(np.int64)
            values = pa.array([w for ws in words for w in ws], pa.string())
            shingles, shingle_offsets = mh.shingle_hashes(mh.token_hashes(values, self._seed()), offsets, self.params.ngram)
            return mh.signatures(shingles, shingle_offsets, a, b)

    return DatatroveTokenized()


def run_ours(table: pa.Table, unit_rows: int, stage=None) -> np.ndarray:
    from curate.engine.pipeline import run_in_memory
    from curate.stages.minhash_dedup import MinhashDedup

    units = [table.slice(i, unit_rows) for i in range(0, table.num_rows, unit_rows)]
    _, rejected = run_in_memory([("minhash_dedup", stage or MinhashDedup())], units)
    dropped = set(rejected.column("id").to_pylist()) if rejected is not None else set()
    return np.array([i in dropped for i in table.column("id").to_pylist()])


_WORD = re.compile(r"\w+")


def _shingles(text: str, lang: str) -> set[bytes]:
    """The reference's own usual preparation: lower-cased word 5-grams, character 5-grams for Chinese."""
    text = text.lower()
    if lang == "zh":
        chars = "".join(_WORD.findall(text))
        return {chars[i : i + 5].encode() for i in range(max(len(chars) - 4, 1))}
    words = _WORD.findall(text)
    return {" ".join(words[i : i + 5]).encode() for i in range(max(len(words) - 4, 1))}


def run_datasketch(table: pa.Table) -> np.ndarray:
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=0.8, num_perm=128)
    removed = np.zeros(table.num_rows, dtype=bool)
    texts, langs = table.column("text").to_pylist(), table.column("lang").to_pylist()
    for i, (text, lang) in enumerate(zip(texts, langs)):
        m = MinHash(num_perm=128, seed=1)
        m.update_batch(list(_shingles(text, lang)))
        if lsh.query(m):
            removed[i] = True
        else:
            lsh.insert(str(i), m)
    return removed


def run_datatrove(table: pa.Table) -> np.ndarray:
    from datatrove.data import Document
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup.minhash import (
        MinhashConfig,
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
        MinhashDedupSignature,
    )

    ids, texts = table.column("id").to_pylist(), table.column("text").to_pylist()

    def docs():
        return [Document(text=t, id=i) for i, t in zip(ids, texts)]

    kept: list[str] = []

    def collect(data, rank: int = 0, world_size: int = 1):
        for doc in data:
            kept.append(doc.id)
            yield doc

    from datatrove.utils.logging import logger

    logger.remove()  # its per-stage reports would drown the table
    config = MinhashConfig()
    with tempfile.TemporaryDirectory() as tmp:
        sigs, buckets, remove, logs = (f"{tmp}/{name}" for name in ("sigs", "buckets", "remove", "logs"))
        stages = [
            ([docs(), MinhashDedupSignature(output_folder=sigs, config=config)], 1),
            ([MinhashDedupBuckets(input_folder=sigs, output_folder=buckets, config=config)], config.num_buckets),
            ([MinhashDedupCluster(input_folder=buckets, output_folder=remove, config=config)], 1),
            ([docs(), MinhashDedupFilter(input_folder=remove), collect], 1),
        ]
        for k, (pipeline, tasks) in enumerate(stages):
            LocalPipelineExecutor(pipeline, tasks=tasks, workers=1, logging_dir=f"{logs}/{k}").run()
    kept_set = set(kept)
    return np.array([i not in kept_set for i in ids])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=2000, help="Base documents (the corpus is ~2.2× that).")
    parser.add_argument("--unit-rows", type=int, default=4096, help="Rows per work unit for ours.")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    fixtures = _fixtures()
    import curate.engine.pipeline  # noqa: F401,E401  (imports are not timed)
    import curate.stages.minhash_dedup
    corpus = fixtures.near_duplicate_corpus(args.clusters, seed=args.seed)
    truth = corpus.truth_removed()
    n = corpus.table.num_rows
    print(f"corpus: {n} docs, {int(truth.sum())} near-duplicates to remove, {int(corpus.near_miss.sum())} near misses")

    rates = {}
    from datatrove.utils.word_tokenizers import load_word_tokenizer

    load_word_tokenizer("en").word_tokenize("warm up spaCy")  # loading it is not timed, on either side
    for name, run in (
        ("ours", lambda: run_ours(corpus.table, args.unit_rows)),
        ("ours+dt-tok", lambda: run_ours(corpus.table, args.unit_rows, datatrove_tokenized())),
        ("datasketch", lambda: run_datasketch(corpus.table)),
        ("datatrove", lambda: run_datatrove(corpus.table)),
    ):
        start, cpu = time.perf_counter(), time.process_time()
        removed = run()
        wall, seconds = time.perf_counter() - start, time.process_time() - cpu  # CPU: fair on a shared machine
        precision, recall = fixtures.precision_recall(removed, truth)
        kept_per_cluster = np.bincount(corpus.cluster[~removed], minlength=corpus.cluster.max() + 1)
        wiped = int(((np.bincount(corpus.cluster) > 0) & (kept_per_cluster == 0)).sum())
        rates[name] = n / seconds
        print(
            f"{name:>11}: {n / seconds:9.0f} docs/s  {seconds:7.2f} s CPU ({wall:6.2f} s wall)  precision={precision:.4f}  "
            f"recall={recall:.4f}  removed={int(removed.sum())}  clusters wiped out={wiped}",
            flush=True,
        )
    print(f"ours / datasketch = {rates['ours'] / rates['datasketch']:.2f}")
    print(f"ours / datatrove = {rates['ours'] / rates['datatrove']:.2f} (each with its own tokenization)")
    print(f"ratio={rates['ours+dt-tok'] / rates['datatrove']:.2f}")


if __name__ == "__main__":
    main()
