"""``curate calibrate RECIPE``: how hard a recipe filters each language, measured on parallel text.

A filter set is fair across languages when a document and its faithful translation get the same verdict.
Given a parallel set (one file per language, ``LANG.jsonl.gz`` or ``LANG.parquet``, documents paired across
files by ``id``; ``data/parallel/`` ships one), this runs the recipe's stages over each language's file
and prints, per language, the share of documents removed next to English's share on the same documents,
the difference, and the rule that accounts for most of it. ``--stats`` also prints what the language
presets are calibrated from: words, other tokens, characters, word length and sentences over English's
on the same documents.

Each language runs on its own (:func:`curate.engine.pipeline.run_in_memory`), so a global stage such as dedup
never sees a translation as a duplicate of its source. Memory: every language's documents are held at
once; a parallel set is small (thousands of documents), not a corpus.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.core.errors import InputError
from curate.core.schema import DROP_REASON, ID, TEXT
from curate.engine.pipeline import run_in_memory
from curate.engine.recipe import Recipe, build_stages
from curate.io.readers import ColumnMap, find_inputs, plan_units, read_unit

PARALLEL = Path(__file__).resolve().parents[2] / "data" / "parallel"
REFERENCE = "en"


@dataclass
class LangRow:
    """One language's verdicts on the documents it shares with the reference language."""

    lang: str
    docs: int
    removed: float  # share removed, 0..1
    reference_removed: float  # the reference language's share removed on the same documents
    disagree: int  # documents whose verdict differs from the reference's
    top_reason: str  # the drop reason most over-represented against the reference ("" when none)

    @property
    def gap(self) -> float:
        return self.removed - self.reference_removed


def read_parallel(folder: str | Path) -> dict[str, pa.Table]:
    """Each language's documents (``id``, ``text``, other columns), the language read from the file name."""
    files = find_inputs([str(folder)])
    out: dict[str, pa.Table] = {}
    for path in files:
        lang = Path(path).name.split(".")[0]
        tables = [read_unit(u, ColumnMap())[0] for u in plan_units([path], ColumnMap())]
        out[lang] = pa.concat_tables(tables)
    if REFERENCE not in out:
        raise InputError(f"{folder}: no {REFERENCE}.jsonl.gz (or .parquet); a parallel set is compared with English")
    return out


def verdicts(recipe: Recipe, table: pa.Table) -> dict[str, str]:
    """Per document id: "" when kept, else its drop reason (``stage:rule``, details cut off)."""
    kept, rejected = run_in_memory(build_stages(recipe), [table])
    out = {i: "" for i in kept.column(ID).to_pylist()}
    if rejected is not None:
        for i, why in zip(rejected.column(ID).to_pylist(), rejected.column(DROP_REASON).to_pylist()):
            out[i] = (why or "?").split("=", 1)[0].split(" (", 1)[0]
    return out


def removal_table(recipe: Recipe, tables: dict[str, pa.Table]) -> list[LangRow]:
    """Per language (the reference first, then by name): removal on the documents shared with the reference."""
    results = {lang: verdicts(recipe, table) for lang, table in tables.items()}
    ref = results[REFERENCE]
    rows = []
    for lang in [REFERENCE] + sorted(set(results) - {REFERENCE}):
        mine = results[lang]
        ids = [i for i in mine if i in ref]
        if not ids:
            continue
        removed = sum(bool(mine[i]) for i in ids)
        ref_removed = sum(bool(ref[i]) for i in ids)
        extra = Counter(mine[i] for i in ids if mine[i] and not ref[i])
        extra.subtract(Counter(ref[i] for i in ids if ref[i] and not mine[i]))
        top = max(extra.items(), key=lambda kv: (kv[1], kv[0]), default=("", 0))
        rows.append(LangRow(lang, len(ids), removed / len(ids), ref_removed / len(ids),
                            sum(bool(mine[i]) != bool(ref[i]) for i in ids), top[0] if top[1] > 0 else ""))
    return rows


def format_table(rows: list[LangRow]) -> str:
    """A Markdown table: language, documents, removed %, English on the same documents, gap, top extra reason."""
    lines = ["| lang | docs | removed | en, same docs | gap | verdicts differ | most extra drops |",
             "|---|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        lines.append(f"| {r.lang} | {r.docs} | {100 * r.removed:.1f}% | {100 * r.reference_removed:.1f}% | "
                     f"{100 * r.gap:+.1f} | {r.disagree} | {r.top_reason or '—'} |")
    return "\n".join(lines)


RATIOS = ("words", "symbols", "chars", "word_length", "sentences")
ALPHA_BAND = (0.75, 0.85)  # English alphabetic-token shares around Gopher's 0.8 where symbols are measured


def _text_stats(table: pa.Table) -> dict[str, np.ndarray]:
    """Per document id: words, alphabetic tokens, other tokens, characters, mean word length, sentences."""
    from curate.stages.c4 import sentences_per_line
    from curate.stages.lib import text_stats as ts

    text = ts.as_array(table.column(TEXT))
    words = ts.split_words(text)
    is_word, is_alpha, _ = ts.word_classes(words)
    n_real, n_alpha = words.per_doc(is_word), words.per_doc(is_alpha)
    lines = ts.split_lines(text)
    columns = np.stack([
        n_real, n_alpha, words.per_doc() - n_alpha,
        pc.utf8_length(text).to_numpy(zero_copy_only=False).astype(float),
        ts.ratio(words.per_doc(words.lengths() * is_word), n_real),
        lines.per_doc(sentences_per_line(lines.values)),
    ], axis=1)
    return dict(zip(table.column(ID).to_pylist(), columns))


def content_ratios(tables: dict[str, pa.Table]) -> dict[str, dict[str, float]]:
    """Per language, what its preset scales by: medians over the documents shared with English of the ratio
    to English of words (with a letter or digit), characters, mean word length and sentences (C4's count);
    ``symbols`` (tokens without a letter) is ``words`` times the median odds ratio of other to alphabetic
    tokens, over documents where the alphabetic-word rule decides (English share in :data:`ALPHA_BAND`)."""
    ref = _text_stats(tables[REFERENCE])
    out = {}
    for lang, table in tables.items():
        pairs = np.array([(m, ref[i]) for i, m in _text_stats(table).items() if i in ref and ref[i].min() > 0 and m.min() > 0])
        if not len(pairs):
            continue
        mine, en = pairs[:, 0, :], pairs[:, 1, :]
        words, _, _, chars, length, sentences = np.median(mine / en, axis=0)
        share = en[:, 1] / (en[:, 1] + en[:, 2])
        band = (share >= ALPHA_BAND[0]) & (share <= ALPHA_BAND[1])
        odds = (mine[:, 2] / mine[:, 1]) / (en[:, 2] / en[:, 1])
        symbols = words * float(np.median(odds[band] if band.any() else odds))
        out[lang] = {k: round(float(v), 3) for k, v in zip(RATIOS, (words, symbols, chars, length, sentences))}
    return out
