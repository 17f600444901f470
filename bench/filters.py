"""Heuristic filters: ours (vectorised) against datatrove's, same documents, same rules, one core.

Runs Gopher quality, Gopher repetition, C4 quality and FineWeb quality, each on every document (not
chained), with defaults on both sides; ours see batches of 1,024 rows with no language column (so the
English preset, as datatrove assumes). Prints docs/s per filter for each side, the agreement of the keep
decisions, and last `ratio=X.XX` (our docs/s over datatrove's, all four filters together; goal >= 10).

Documents: the English part of the shipped sample (clean and junk), repeated to --docs.

    python bench/filters.py [--docs 2000]
"""

from __future__ import annotations

import os

os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core, for both sides
os.environ.setdefault("POLARS_MAX_THREADS", "1")  # before polars is imported

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

pa.set_cpu_count(1)
pa.set_io_thread_count(1)


def english_sample(n: int) -> list[str]:
    rows = []
    for path in sorted(os.listdir("data/sample")):
        if path.endswith(".parquet"):
            rows += pq.read_table(f"data/sample/{path}", columns=["text", "url", "source"]).to_pylist()
    english = {"python3.11-doc", "debian-reference-en", "fortunes"}
    docs = [
        r["text"] for r in rows
        if r["source"] in english or "/en-US" in r["url"] or (r["source"] == "synthetic-junk" and r["text"].isascii())
    ]
    return (docs * (n // max(len(docs), 1) + 1))[:n]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=2000, help="documents per filter")
    args = ap.parse_args()

    from datatrove.data import Document
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
    )

    from curate.stages.c4 import C4Quality
    from curate.stages.fineweb import FineWebQuality
    from curate.stages.gopher import GopherQuality, GopherRepetition

    docs = english_sample(args.docs)
    batches = [pa.table({"text": docs[i : i + 1024]}) for i in range(0, len(docs), 1024)]
    pairs = [
        (GopherQuality, GopherQualityFilter),
        (GopherRepetition, GopherRepetitionFilter),
        (C4Quality, C4QualityFilter),
        (FineWebQuality, FineWebQualityFilter),
    ]
    # warm both sides once (regex compilation, spaCy's tokenizer) outside the timings
    for ours, theirs in pairs:
        st = ours()
        st.setup()
        st.process(batches[0].slice(0, 8))
        [theirs().filter(Document(text=t, id="w")) for t in docs[:8]]
    total_ours = total_ref = 0.0
    for ours, theirs in pairs:
        st = ours()
        st.setup()
        start = time.perf_counter()
        keep = np.concatenate([st.process(b).keep for b in batches])
        t_ours = time.perf_counter() - start
        ref = theirs()
        start = time.perf_counter()
        ref_keep = np.array([ref.filter(Document(text=t, id=str(i))) is True for i, t in enumerate(docs)])
        t_ref = time.perf_counter() - start
        total_ours += t_ours
        total_ref += t_ref
        print(
            f"{ours.name:18s} ours {len(docs) / t_ours:9.0f} docs/s   datatrove {len(docs) / t_ref:7.0f} docs/s   "
            f"x{t_ref / t_ours:6.2f}   agreement {np.mean(keep == ref_keep):.4f}"
        )
    print(f"all four           ours {len(docs) / total_ours:9.0f} docs/s   datatrove {len(docs) / total_ref:7.0f} docs/s")
    print(f"ratio={total_ref / total_ours:.2f}")


if __name__ == "__main__":
    main()
