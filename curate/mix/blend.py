"""Build a mixture: plan on the driver, then filter, count, select, shuffle and write as parallel tasks.

The driver reads Parquet footers, cuts the sources' files into pieces and runs the steps of
:mod:`curate.mix.tasks` on the executor ``curate run`` uses (local processes or Ray), recording every
finished task with :meth:`curate.engine.reduce.ReduceJob.step`, so re-running a killed ``curate mix``
runs only the tasks left and gives the same bytes. It holds per-piece results and, for a source with a
fractional epoch, a 2^20-bucket histogram and a window of a few thousand keys (:mod:`curate.mix.select`):
never a source's documents. What the blend takes and in which order is defined in
:mod:`curate.mix.select`; it does not depend on the number of workers or the executor.

    OUT/[STAGE/]data/part-K.parquet     output shard K: the rows whose order key falls in its K-th range
                                        (about output.rows_per_shard rows), sorted by that key (zstd)
    OUT/[STAGE/]bin/<source>_text_document.bin/.idx   (tokenize: the source's documents, blend order)
    OUT/[STAGE/]weights.md, weights.csv, data_path.txt (data_path.txt only with bin/)
    OUT/mixture.json                    the resolved mixture, counts, files, and how the tasks ran
    OUT/_work/                          a run in progress: task records, histograms, shuffle files
"""

from __future__ import annotations

import json
import math
import os
import shutil
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import xxhash

from curate.core.errors import OutputError, RecipeError
from curate.engine.executors import make_task_executor
from curate.engine.reduce import ReduceJob
from curate.io.shards import remove_temporaries, write_json
from curate.mix.config import Mixture, resolve_epochs
from curate.mix.pieces import Piece, SourceFiles, plan_pieces
from curate.mix.report import SourceRow, write_stage_report, write_summary
from curate.mix.select import HIST_BITS, Cut, place_cut, plan_window, whole_and_fraction
from curate.mix.tasks import ADDED, MixContext, count_task, hist_path, merge_task, send_task, window_task, write_task
from curate.mix.tokens import MixTokenizer

WORK = "_work"


def blend_schema(sources: list[SourceFiles], keep: list[str] | None, mixture_file: str) -> pa.Schema:
    """The blend's columns: id, text, the added ones, then the kept source columns."""
    base = [pa.field("id", pa.string()), pa.field("text", pa.string()), pa.field("source", pa.string()),
            pa.field("category", pa.string()), pa.field("repeat", pa.int32())]
    types: dict[str, set[pa.DataType]] = {}
    for s in sources:
        for field in s.schema:
            types.setdefault(field.name, set()).add(field.type)
    if keep is None:
        keep = [f.name for f in sources[0].schema if f.name not in ("id", "text", *ADDED)
                and all(f.name in s.schema.names for s in sources) and len(types[f.name]) == 1]
    extra = []
    for name in keep:
        if name in ("id", "text", *ADDED):
            raise RecipeError(f"{mixture_file}: output.keep_columns: {name!r} is always in the blend (or added by it); leave it out")
        if name not in types:
            raise RecipeError(f"{mixture_file}: output.keep_columns: no source has a column {name!r}")
        if len(types[name]) > 1:
            raise RecipeError(f"{mixture_file}: output.keep_columns: {name!r} has different types across sources ({', '.join(map(str, types[name]))})")
        extra.append(pa.field(name, next(iter(types[name]))))
    return pa.schema(base + extra)


def _run_key(mixture: Mixture, pieces: list[Piece], tokenizer: MixTokenizer | None, tokenize: bool, dry_run: bool) -> str:
    """What decides a run's tasks: the mixture, the flags, the pieces and their files' sizes and times."""
    stats = [[p.path, list(p.row_groups), os.stat(p.path).st_size, os.stat(p.path).st_mtime_ns] for p in pieces]
    fp = tokenizer.fingerprint if tokenizer else None
    return xxhash.xxh64_hexdigest(json.dumps([mixture.fingerprint(), tokenize, dry_run, fp, stats]))


def _prepare_output(out: Path, fingerprint: str, run_key: str, overwrite: bool) -> bool:
    """Refuse to write over a curation run or another mixture's blend; True to resume a killed run."""
    if (out / "manifest.json").exists():
        raise OutputError(f"{out} holds a curation run (manifest.json); write the blend to another folder")
    info, marker = out / WORK / "run.json", out / "mixture.json"
    previous = None
    if info.exists():
        previous = json.loads(info.read_text(encoding="utf-8"))
        if previous == {"fingerprint": fingerprint, "run": run_key}:
            return True
        previous = previous.get("fingerprint")
    elif marker.exists():
        previous = json.loads(marker.read_text(encoding="utf-8")).get("fingerprint")
    elif out.exists() and any(p.name not in (".cache", WORK) for p in out.iterdir()) and not overwrite:
        raise OutputError(f"{out} is not empty and holds no blend; use an empty folder or --overwrite")
    if previous is not None and previous != fingerprint and not overwrite:
        raise OutputError(f"{out} holds the blend of another mixture; use another folder or --overwrite")
    return False


def _merged_histogram(scratch: str, k: int, pieces: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """A source's histogram over all its pieces (one piece's file in memory at a time)."""
    docs = np.zeros(1 << HIST_BITS, dtype=np.int64)
    size = np.zeros(1 << HIST_BITS, dtype=np.int64)
    for p in pieces:
        t = pq.read_table(hist_path(scratch, k, p))
        b = t.column("bucket").to_numpy()
        docs[b] += t.column("docs").to_numpy()
        size[b] += t.column("size").to_numpy()
    return docs, size


def build_mixture(mixture: Mixture, out: str | Path, mixture_file: str = "<mixture>", tokenize: bool | None = None,
                  dry_run: bool = False, overwrite: bool = False, quiet: bool = False,
                  executor: str = "local", workers: int = 1, ray_address: str | None = None) -> dict:
    """Build every stage of ``mixture`` into ``out``; returns what ``mixture.json`` records."""
    out = Path(out)
    tokenize = mixture.output.tokenize if tokenize is None else tokenize
    if tokenize and mixture.tokenizer is None:
        raise RecipeError(f"{mixture_file}: output.tokenize: writing .bin files needs a `tokenizer:` (a local tokenizer.json)")
    tokenizer = MixTokenizer(mixture.tokenizer.path, mixture.tokenizer.eod_token) if mixture.tokenizer else None
    stages = mixture.stage_list()
    used = {s.name for st in stages for s in mixture.sources if st.sources is None or s.name in st.sources}
    pieces, sources = plan_pieces([(i, s) for i, s in enumerate(mixture.sources) if s.name in used], mixture_file,
                                  mixture.output.rows_per_task)
    schema = blend_schema(sources, mixture.output.keep_columns, mixture_file)
    run_key = _run_key(mixture, pieces, tokenizer, tokenize, dry_run)
    single = mixture.stages is None
    folders = [out if single else out / st.name for st in stages]
    work = out / WORK
    if _prepare_output(out, mixture.fingerprint(), run_key, overwrite):
        remove_temporaries(out)
    else:
        shutil.rmtree(work, ignore_errors=True)
        for folder in folders:
            for sub in ("data", "bin"):
                shutil.rmtree(folder / sub, ignore_errors=True)
        write_json({"fingerprint": mixture.fingerprint(), "run": run_key}, work / "run.json")

    users: list[list[int]] = [[] for _ in pieces]
    for k, s in enumerate(sources):
        for p in s.pieces:
            users[p].append(k)
    runner = make_task_executor(executor, workers, ray_address)
    try:
        job = ReduceJob([], work, workers, runner.run_tasks, quiet, label="mix")
        tok_spec = (mixture.tokenizer.path, mixture.tokenizer.eod_token) if mixture.tokenizer else None
        ctx = MixContext(tuple(s.spec for s in sources), tuple(f"{mixture_file}: sources[{s.index}]" for s in sources),
                         mixture.seed, tok_spec, str(out / ".cache" / "tokens"), str(job.scratch))
        counted = job.step("count", partial(count_task, ctx), [(p, users[p.index]) for p in pieces])
        docs = [sum(counted[p]["sources"][str(k)][0] for p in s.pieces) for k, s in enumerate(sources)]
        totals = {s.spec.name: sum(counted[p]["sources"][str(k)][1] for p in s.pieces) for k, s in enumerate(sources)}
        hits = [all(counted[p]["hit"] for p in s.pieces) for s in sources]
        by_name = {s.spec.name: k for k, s in enumerate(sources)}

        resolved = [resolve_epochs(mixture, st, totals) for st in stages]
        plans: dict[tuple[int, int], tuple[int, Cut | None]] = {}
        windows = {}
        for k, s in enumerate(sources):  # one source's merged histogram at a time
            fracs = [(i, whole_and_fraction(r.epochs)) for i, rs in enumerate(resolved) for r in rs if r.source.name == s.spec.name]
            need = [(i, w, f) for i, (w, f) in fracs if f and docs[k]]
            hist = _merged_histogram(ctx.scratch, k, s.pieces) if need else None
            for i, (w, f) in fracs:
                plans[(i, k)] = (w, None)
            for i, w, f in need:
                windows[f"{i}:{k}"] = plan_window(*hist, f * totals[s.spec.name])
        if windows:
            items = []
            for p in pieces:
                mine = [(name, int(name.split(":")[1]), w.first, w.last) for name, w in windows.items() if int(name.split(":")[1]) in users[p.index]]
                items.append((p, mine))
            found = job.step("window", partial(window_task, ctx), [it for it in items if it[1]])
            for name, w in windows.items():
                keys = np.array([x for r in found for x in r.get(name, [[], []])[0]], dtype=np.uint64)
                sizes = np.array([x for r in found for x in r.get(name, [[], []])[1]], dtype=np.int64)
                i, k = map(int, name.split(":"))
                plans[(i, k)] = (plans[(i, k)][0], place_cut(w, keys, sizes))

        rows_of: dict[tuple[int, int], SourceRow] = {}
        for i, (st, rs) in enumerate(zip(stages, resolved)):
            for r in rs:
                k = by_name[r.source.name]
                whole, cut = plans[(i, k)]
                s = sources[k]
                rows_of[(i, k)] = SourceRow(st.name, s.spec.name, s.spec.category, s.spec.filter, len(s.files),
                                            sum(pieces[p].rows for p in s.pieces), docs[k], totals[s.spec.name], r.epochs,
                                            whole * docs[k] + (cut.docs if cut else 0),
                                            whole * totals[s.spec.name] + (cut.size if cut else 0), r.target_share)
        parts = [max(1, math.ceil(sum(rows_of[(i, k)].effective_documents for k in range(len(sources)) if (i, k) in rows_of)
                                  / mixture.output.rows_per_shard)) for i in range(len(stages))]
        shards: list[list[str]] = [[] for _ in stages]
        if not dry_run:
            ctx = replace(ctx, schema=schema, output=mixture.output, folders=tuple(map(str, folders)), parts=tuple(parts),
                          tokenize=tokenize, plans=plans)
            sent = job.step("send", partial(send_task, ctx), [(p, users[p.index]) for p in pieces if users[p.index]])
            for (i, k), row in rows_of.items():
                got = [r[str(i)][str(k)] for r in sent if str(k) in r.get(str(i), {})]
                if [sum(g[0] for g in got), sum(g[1] for g in got)] != [row.effective_documents, row.effective_tokens]:
                    raise RuntimeError(f"stage {row.stage!r}, source {row.source!r}: planned {row.effective_documents} documents, selected {sum(g[0] for g in got)}")
            items = [(i, p) for i in range(len(stages)) for p in range(parts[i])]
            written = job.step("write", partial(write_task, ctx), items)
            for (i, _), res in zip(items, written):
                if res["shard"]:
                    shards[i].append(res["shard"])
            if tokenize:
                merges = [(i, k, [p for (j, p), res in zip(items, written) if j == i and str(k) in res["sources"]])
                          for (i, k), row in rows_of.items() if row.effective_documents]
                for (i, k, _), n in zip(merges, job.step("merge", partial(merge_task, ctx), merges)):
                    rows_of[(i, k)].bin_tokens = n
        report = []
        for i, folder in enumerate(folders):
            rows = [rows_of[(i, by_name[r.source.name])] for r in resolved[i]]
            report.append(write_stage_report(folder, rows, mixture, shards[i], tokenize and not dry_run, out))
        run = {"executor": executor if not ray_address else "ray", "workers": workers, "pieces": len(pieces), "steps": job.summary()}
    finally:
        runner.close()
    summary = write_summary(out, mixture, report, tokenizer, [(s.spec.name, s.files, hit) for s, hit in zip(sources, hits)], schema, dry_run, run)
    shutil.rmtree(work, ignore_errors=True)
    return summary
