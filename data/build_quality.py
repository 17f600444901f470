"""Build ``data/models/quality.ftz`` the way FineWeb-Edu and CCI4.0 build theirs: an instruct LLM rates
documents' educational value, and fastText learns those ratings.

Why: the quality classifier must not be trained on the data it scores. The documents rated here come from
Debian texts that ``build_sample.py``, ``build_evalset.py`` and ``build_parallel.py`` do not read, and any
document sharing a paragraph with the sample or the evalset is dropped:

* educational: the Node.js API reference (nodejs), the Valgrind manual, English man pages of sections 3
  and 7 (the evalset reads sections 1, 5, 8), the Debian Administrator's Handbook in Traditional Chinese
  (zh-TW; the sample and the parallel set read other languages of the same book), Traditional Chinese
  man pages;
* low value: ``/usr/share/doc/*/copyright`` (licence boilerplate, file lists) and Debian changelogs.

Steps (``--annotate`` runs the first; without it the shipped labels are reused, no LLM needed):

1. rate each document with SmolLM2-135M-Instruct (``.cache/models/smollm2-135m-instruct``, ``make models``):
   the expected digit of the next-token probabilities of 0–5 after the prefilled ``Educational score:``
   (``curate annotate --score-from logprobs``), documents cut to 256 tokens; written with their source to
   ``data/models/quality-labels.parquet``;
2. label: ``hq`` when the score is at or above its language's median, else ``lq``. Per language, because a
   135M model's scale differs with the prompt's language (Chinese prompts get far lower expected digits for
   the same kind of text), and at the median, because its absolute scale is not calibrated (FineWeb-Edu's
   ``score >= 3`` assumes a 70B rater); the classes are balanced, so the majority baseline is 50%;
3. train fastText on the labels (a stratified 10% held out) and write ``quality.ftz.metrics.json`` with the
   held-out agreement with the LLM labels, the majority baseline and the label counts.

    python data/build_quality.py              # retrain quality.ftz from the shipped labels (seconds)
    python data/build_quality.py --annotate   # rate the documents again first (27 minutes on two busy cores: 0.31 docs/s)

The same Debian packages, model and seed give the same labels and model.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_sample import _docbook_root, chunk, html_paragraphs, in_language, man_paragraphs

ROOT = Path(__file__).resolve().parent
LLM = ROOT.parent / ".cache" / "models" / "smollm2-135m-instruct"
LABELS = ROOT / "models" / "quality-labels.parquet"
SEED = 0
MAX_DOC_TOKENS = 256
DOCS = "/usr/share/doc"
PER_FILE = 3  # documents of one file at most, so a source spans many files


def _html(base: str, pattern: str) -> Callable[[], list[Path]]:
    return lambda: sorted(Path(base).glob(pattern))


def _body_paragraphs(path: Path):
    return html_paragraphs(path, _docbook_root)


def _text_paragraphs(path: Path):
    """Blank-line separated paragraphs of a plain (or gzipped) text file."""
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    text = raw.decode("utf-8", errors="replace")
    return [("", p.strip()) for p in text.split("\n\n") if p.strip()]


def _man(locale: str, sections: tuple[str, ...]) -> Callable[[], list[Path]]:
    base = Path("/usr/share/man", locale) if locale else Path("/usr/share/man")
    return lambda: sorted(p for s in sections for p in (base / s).glob("*.gz"))


#: (source, lang, documents wanted, files, paragraphs of a file)
SOURCES = [
    ("nodejs-api", "en", 110, _html(f"{DOCS}/nodejs/api", "*.html"), _body_paragraphs),
    ("valgrind-manual", "en", 50, _html(f"{DOCS}/valgrind/html", "*.html"), _body_paragraphs),
    ("man7-en", "en", 60, _man("", ("man7",)), man_paragraphs),
    ("man3-en", "en", 40, _man("", ("man3",)), man_paragraphs),
    ("debian-handbook-zh-tw", "zh", 110, _html(f"{DOCS}/debian-handbook/html/zh-TW", "*.html"), _body_paragraphs),
    ("manpages-zh-tw", "zh", 20, _man("zh_TW", ("man1", "man5", "man8")), man_paragraphs),
    ("copyright", "en", 110, lambda: sorted(Path(DOCS).glob("*/copyright")), _text_paragraphs),
    ("changelog", "en", 50, lambda: sorted(Path(DOCS).glob("*/changelog.Debian.gz")), _text_paragraphs),
]


def _paragraph_set(path: Path) -> set[str]:
    texts = pc.cast(pq.read_table(path, columns=["text"]).column("text"), pa.string()).to_pylist() if path.suffix == ".parquet" else []
    return {" ".join(p.split()) for t in texts for p in (t or "").split("\n\n") if len(p.strip()) >= 40}


def _used_paragraphs() -> set[str]:
    """Paragraphs of the sample and the evalset: a rated document sharing one of them is dropped."""
    from curate.io.readers import ColumnMap, find_inputs, plan_units, read_unit

    seen: set[str] = set()
    for unit in plan_units(find_inputs([str(ROOT / "sample")]), ColumnMap()):
        for t in read_unit(unit, ColumnMap())[0].column("text").to_pylist():
            seen |= {" ".join(p.split()) for p in (t or "").split("\n\n") if len(p.strip()) >= 40}
    return seen | _paragraph_set(ROOT / "evalset" / "evalset.parquet")


def collect(seed: int = SEED) -> pa.Table:
    """The documents to rate: per source, paragraph-aligned documents of random files, in a seeded order."""
    rng = random.Random(seed)
    used = _used_paragraphs()
    rows: list[dict] = []
    for source, lang, want, files, paragraphs in SOURCES:
        found = files()
        rng.shuffle(found)
        docs: list[str] = []
        for path in found:  # per-file Python: extraction is per file
            taken = 0
            for _, text in chunk(paragraphs(path), rng, lang):
                if any(" ".join(p.split()) in used for p in text.split("\n\n")) or not in_language(text, lang):
                    continue
                docs.append(text)
                taken += 1
                if taken == PER_FILE or len(docs) == want:
                    break
            if len(docs) == want:
                break
        if len(docs) < want:
            print(f"{source}: {len(docs)} documents of {want} wanted", file=sys.stderr)
        rows += [{"id": f"{source}-{i:04d}", "text": t, "lang": lang, "source": source} for i, t in enumerate(docs)]
    return pa.Table.from_pylist(rows)


def annotate(docs: pa.Table, model: Path, batch_size: int = 8) -> pa.Table:
    """Rate ``docs`` with the LLM (digit log-probabilities); the annotation rows plus ``source``."""
    from curate.scorers.annotate import AnnotateConfig, annotate
    from curate.synth.engines import EngineSpec

    config = AnnotateConfig(engine=EngineSpec(kind="hf", model=str(model)), score_from="logprobs",
                            max_doc_tokens=MAX_DOC_TOKENS, batch_size=batch_size, max_chars=4000, seed=SEED)
    rated = annotate(docs, config).drop_columns(["label", "model"])
    return rated.append_column("model", pa.array([model.name] * rated.num_rows, pa.string())).append_column("source", docs.column("source"))


def median_labels(rated: pa.Table) -> pa.Array:
    """``hq`` at or above the median score of the document's language, ``lq`` below."""
    import numpy as np

    scores = rated.column("score").to_numpy(zero_copy_only=False)
    langs = np.asarray(rated.column("lang").to_pylist())
    cut = {lang: float(np.median(scores[langs == lang])) for lang in np.unique(langs)}
    return pa.array(["hq" if s >= cut[lang] else "lq" for s, lang in zip(scores, langs)], pa.string())


#: ``reference.ftz``: sources that are reference manuals (hq) vs boilerplate (lq), DCLM-style labels by source
BOILERPLATE = ("copyright", "changelog")


def shuffled(text: str, lang: str, rng: random.Random) -> str:
    """The text's words (characters for Chinese) in a random order: fluent-looking tokens, no sense."""
    units = list(text.replace("\n", "")) if lang == "zh" else text.split()
    rng.shuffle(units)
    return ("" if lang == "zh" else " ").join(units)


def _train(texts: list[str], labels: list[str], out: Path, about: str) -> dict:
    """fastText on (texts, labels), a stratified 10% held out; the report gains the majority baseline."""
    from curate.scorers.fasttext_classifier import TrainConfig, save_report, train

    config = TrainConfig(epoch=25, lr=0.5, dim=16, bucket=20_000, min_count=2, seed=SEED, max_chars=2000)
    report = train(texts, labels, out, config)
    path = save_report(report, out)
    held = sum(m.support for m in report.metrics.values())
    baseline = max(m.support for m in report.metrics.values()) / held
    metrics = json.loads(path.read_text(encoding="utf-8"))
    metrics.update(agreement_held_out=report.accuracy, majority_baseline=baseline, labels_from=about, model=out.name)
    path.write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return {"accuracy": report.accuracy, "majority_baseline": baseline, "labels": report.labels}


def train_quality(labels_path: Path, out: Path) -> dict:
    """``quality.ftz`` from the shipped LLM labels; its held-out accuracy is the agreement with the LLM."""
    rated = pq.read_table(labels_path)
    model = rated.column("model")[0].as_py().rstrip("/").rsplit("/", 1)[-1]
    about = (f"{labels_path.name}: {rated.num_rows} documents rated by {model} (expected digit of the next-token "
             "probabilities of 0-5); hq at or above the median score of the document's language")
    return _train(rated.column("text").to_pylist(), rated.column("label").to_pylist(), out, about)


def train_reference(labels_path: Path, out: Path) -> dict:
    """``reference.ftz``: DCLM-style labels by source, not by the LLM: the manuals are ``hq``; licence
    boilerplate, changelogs and a shuffled copy of a third of the manuals (word salad) are ``lq``."""
    rng = random.Random(SEED)
    rows = pq.read_table(labels_path, columns=["text", "lang", "source"]).to_pylist()
    texts = [r["text"] for r in rows]
    labels = ["lq" if r["source"] in BOILERPLATE else "hq" for r in rows]
    manuals = [r for r in rows if r["source"] not in BOILERPLATE]
    texts += [shuffled(r["text"], r["lang"], rng) for r in rng.sample(manuals, len(manuals) // 3)]
    labels += ["lq"] * (len(texts) - len(labels))
    about = (f"{labels_path.name}: labels by source, hq = the reference manuals, lq = {', '.join(BOILERPLATE)} "
             "and the words of a third of the manuals shuffled")
    return _train(texts, labels, out, about)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--annotate", action="store_true", help="rate the documents with the LLM again (slow)")
    parser.add_argument("--model", type=Path, default=LLM, help="the instruct model that rates")
    parser.add_argument("--labels", type=Path, default=LABELS, help="the labels Parquet (written with --annotate)")
    parser.add_argument("--out", type=Path, default=ROOT / "models" / "quality.ftz", help="the classifier to write")
    parser.add_argument("--limit", type=int, help="rate only the first N documents (a quick check)")
    args = parser.parse_args()
    if args.annotate:
        import time

        docs = collect()
        docs = docs.slice(0, args.limit) if args.limit else docs
        start = time.perf_counter()
        rated = annotate(docs, args.model)
        seconds = time.perf_counter() - start
        rated = rated.append_column("label", median_labels(rated))
        args.labels.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(rated, args.labels, compression="zstd", compression_level=19)
        print(f"{args.labels}: {rated.num_rows} documents rated in {seconds:.0f} s ({rated.num_rows / seconds:.2f} docs/s)")
    summary = {"quality": train_quality(args.labels, args.out), "reference": train_reference(args.labels, args.out.with_name("reference.ftz"))}
    print(json.dumps(summary, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
