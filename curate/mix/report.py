"""The reports of a blend: the weights table (Markdown and CSV), the Megatron data-path, mixture.json.

The weights table has the shape OpenSeek publishes for CCI4.0: per source and per category the documents
and tokens available, the epochs taken, the effective tokens that gives and the share of the blend.
``data_path.txt`` is the ``--data-path`` argument of Megatron-LM / FlagScale: ``weight prefix weight
prefix ...`` with each source's share as its weight, so Megatron's blended sampler reproduces the blend.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import asdict, dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pyarrow as pa

from curate.io.shards import write_json
from curate.mix.config import DEFAULT_EPOCHS, Mixture
from curate.mix.tokens import MixTokenizer

CSV_COLUMNS = ["stage", "kind", "category", "source", "files", "documents", "tokens", "epochs",
               "effective_documents", "effective_tokens", "share", "target_share", "filter"]


@dataclass
class SourceRow:
    """One source of one stage: what it has and what the blend took of it (tokens include EOD)."""

    stage: str
    source: str
    category: str
    filter: str | None
    files: int
    rows_read: int
    documents: int
    tokens: int
    epochs: float
    effective_documents: int
    effective_tokens: int
    target_share: float | None
    share: float = 0.0
    bin_tokens: int | None = None


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _category_order(rows: list[SourceRow]) -> list[str]:
    seen = list(dict.fromkeys(r.category for r in rows))
    return [c for c in DEFAULT_EPOCHS if c in seen] + [c for c in seen if c not in DEFAULT_EPOCHS]


def _table_rows(rows: list[SourceRow]) -> list[dict]:
    """Source rows grouped by category, each group followed by its total, then the blend's total."""
    out: list[dict] = []

    def total(kind: str, category: str, group: list[SourceRow]) -> dict:
        tokens = sum(r.tokens for r in group)
        eff = sum(r.effective_tokens for r in group)
        return {"stage": group[0].stage if group else "", "kind": kind, "category": category, "source": "",
                "files": None, "documents": sum(r.documents for r in group), "tokens": tokens,
                "epochs": eff / tokens if tokens else 0.0, "effective_documents": sum(r.effective_documents for r in group),
                "effective_tokens": eff, "share": sum(r.share for r in group), "target_share": None, "filter": None}

    for cat in _category_order(rows):
        group = [r for r in rows if r.category == cat]
        out.extend({**{k: v for k, v in asdict(r).items() if k in CSV_COLUMNS}, "kind": "source"} for r in group)
        out.append(total("category", cat, group))
    out.append(total("total", "", rows))
    return out


def weights_csv(rows: list[SourceRow]) -> str:
    """The weights table as CSV: per stage, source rows, a total per category, and the stage's total."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    table = [row for stage in dict.fromkeys(r.stage for r in rows) for row in _table_rows([r for r in rows if r.stage == stage])]
    for row in table:
        writer.writerow({k: ("" if row[k] is None else (f"{row[k]:.6f}" if isinstance(row[k], float) else row[k])) for k in CSV_COLUMNS})
    return buf.getvalue()


def weights_markdown(rows: list[SourceRow], mixture: Mixture, stage: str, shards: int, tokenized: bool) -> str:
    tok = mixture.tokenizer
    unit = "tokens" if tok else "bytes"
    if tok is None:
        counted = "no tokenizer: the tokens columns are UTF-8 bytes of text."
    else:
        counted = f"tokens counted with `{tok.path}`" + (f" including one `{tok.eod_token}` per document." if tok.eod_token else ".")
    eff = sum(r.effective_tokens for r in rows)
    docs = sum(r.effective_documents for r in rows)
    lines = [
        f"# Mixture `{mixture.name}`" + ("" if mixture.stages is None else f" — stage `{stage}`"),
        "",
        f"{docs:,} documents, {eff:,} {unit} in {shards} Parquet shard(s){' and indexed bin/ files' if tokenized else ''}; "
        f"seed {mixture.seed}; " + counted,
        "",
        "| category | source | documents | tokens | epochs | effective documents | effective tokens | share |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in _table_rows(rows):
        if row["kind"] == "source":
            cells = [row["category"], row["source"]]
        elif row["kind"] == "category":
            cells = [f"**{row['category']}**", "**all**"]
        else:
            cells = ["**total**", ""]
        cells += [f"{row['documents']:,}", f"{row['tokens']:,}", f"{row['epochs']:.2f}", f"{row['effective_documents']:,}",
                  f"{row['effective_tokens']:,}", f"{100 * row['share']:.2f}%"]
        lines.append("| " + " | ".join(cells) + " |")
    filtered = [r for r in rows if r.filter]
    if filtered:
        lines += ["", "Filters: " + "; ".join(f"`{r.source}`: `{r.filter}`" for r in filtered) + "."]
    if not tokenized:
        lines += ["", "No bin/ files: a run with `output.tokenize: true` (or `--tokenize`) writes them and data_path.txt."]
    return "\n".join(lines) + "\n"


def data_path(rows: list[SourceRow], folder: Path, out: Path, mixture: Mixture) -> str:
    """``weight prefix weight prefix ...`` for Megatron's ``--data-path`` (sources with documents only)."""
    root = Path(mixture.output.data_path_prefix) if mixture.output.data_path_prefix else out.resolve()
    rel = folder.resolve().relative_to(out.resolve())
    parts = []
    for r in rows:
        if r.effective_documents:
            parts += [f"{r.share:.6g}", str(root / rel / "bin" / f"{r.source}_text_document")]
    return " ".join(parts)


def write_stage_report(folder: Path, rows: list[SourceRow], mixture: Mixture, shards: list[str], tokenized: bool, out: Path) -> dict:
    """Fill in shares and write weights.md, weights.csv and data_path.txt into ``folder``."""
    eff = sum(r.effective_tokens for r in rows)
    for r in rows:
        r.share = r.effective_tokens / eff if eff else 0.0
    stage = rows[0].stage if rows else ""
    _write_text(folder / "weights.csv", weights_csv(rows))
    _write_text(folder / "weights.md", weights_markdown(rows, mixture, stage, len(shards), tokenized))
    if tokenized:  # data_path.txt names only .bin files that were written
        _write_text(folder / "data_path.txt", data_path(rows, folder, out, mixture) + "\n")
    else:
        (folder / "data_path.txt").unlink(missing_ok=True)
    return {"name": stage, "folder": str(folder.relative_to(out)) if folder != out else ".", "shards": shards,
            "documents": sum(r.effective_documents for r in rows), "tokens": eff, "tokenized": tokenized,
            "sources": [asdict(r) for r in rows]}


def write_summary(out: Path, mixture: Mixture, stages: list[dict], tokenizer: MixTokenizer | None,
                  files: list[tuple[str, list[str], bool]], schema: pa.Schema, dry_run: bool, run: dict | None = None) -> dict:
    """Write mixture.json (and, for several stages, a weights table of all of them at OUT's top)."""
    if mixture.stages is not None:
        rows = [SourceRow(**s) for st in stages for s in st["sources"]]
        _write_text(out / "weights.csv", weights_csv(rows))
        md = [weights_markdown([r for r in rows if r.stage == st["name"]], mixture, st["name"], len(st["shards"]), st["tokenized"]) for st in stages]
        _write_text(out / "weights.md", "\n".join(md))
    try:
        curate_version = version("curate")
    except PackageNotFoundError:
        curate_version = "unknown"
    summary = {
        "name": mixture.name,
        "fingerprint": mixture.fingerprint(),
        "curate_version": curate_version,
        "dry_run": dry_run,
        "mixture": mixture.model_dump(),
        "tokenizer": None if tokenizer is None else {
            "path": tokenizer.path, "fingerprint": tokenizer.fingerprint, "vocab_size": tokenizer.vocab_size,
            "eod_token": tokenizer.eod_token, "eod_id": tokenizer.eod_id},
        "size_unit": "tokens" if tokenizer is not None else "utf8_bytes",
        "columns": schema.names,
        "inputs": [{"source": name, "files": paths, "token_cache_hit": hit} for name, paths, hit in files],
        "stages": stages,
        "run": run or {},
    }
    write_json(summary, out / "mixture.json")
    return summary
