"""Build ``data/models/``: the small models the sample pipeline (recipes/cci4-web.yaml) scores with.

Why: the CCI4.0 web recipe needs a fastText quality classifier, a fastText domain classifier and a causal
LM, and nothing may be downloaded. These are trained here, in about a minute on one CPU core, from the
shipped sample (``data/sample``) and the licence texts every Debian system has (/usr/share/common-licenses):

* ``quality.ftz`` — ``hq`` / ``lq`` educational value as SmolLM2-135M-Instruct rated it, on Debian texts the
  sample does not use (``build_quality.py``; retrained here from the shipped ``quality-labels.parquet``,
  so no LLM is needed); ``reference.ftz`` — a DCLM-style second opinion on the same documents, labelled by
  source (reference manuals vs licence boilerplate and changelogs), the third score of the ensemble;
* ``domain.ftz`` — labels programming, sysadmin, manual, quotes, legal, spam (from each document's source);
* ``lm/`` — a byte-level BPE tokenizer (2048 tokens) and a 2-layer Llama (about 200K parameters) trained
  for 300 steps on the sample's clean prose, saved with transformers.

Real runs point the recipe at real models instead (docs/scorers.md). The same inputs and seed give the
same models; the total is well under 8 MB.

    python data/build_models.py            # writes data/models/
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import pyarrow as pa

ROOT = Path(__file__).resolve().parent
SEED = 0
LICENSES = Path("/usr/share/common-licenses")
DOMAINS = {
    "python3.11-doc": "programming",
    "debian-handbook": "sysadmin",
    "debian-reference": "sysadmin",
    "maint-guide": "sysadmin",
    "debian-faq": "sysadmin",
    "manpages": "manual",
    "fortunes": "quotes",
    "synthetic-junk": "spam",
}


def sample_docs(sample: Path) -> list[dict]:
    """Every readable document of the sample, in id order."""
    from curate.io.readers import ColumnMap, find_inputs, plan_units, read_unit

    tables = [read_unit(u, ColumnMap())[0] for u in plan_units(find_inputs([str(sample)]), ColumnMap())]
    docs = pa.concat_tables(tables, promote_options="permissive").select(["id", "text", "source"]).to_pylist()
    return sorted(docs, key=lambda d: d["id"])


def licence_paragraphs(limit: int = 400) -> list[str]:
    """Paragraphs of at least 200 characters from the licence texts, in file order."""
    out = []
    for path in sorted(p for p in LICENSES.glob("*") if p.is_file() and not p.is_symlink()):
        text = path.read_text(encoding="utf-8", errors="replace")
        out += [" ".join(p.split()) for p in text.split("\n\n") if len(p.strip()) >= 200]
    return out[:limit]


def family(source: str) -> str | None:
    return next((v for k, v in DOMAINS.items() if source.startswith(k)), None)


def build(sample: Path, out: Path, lm_steps: int) -> dict:
    from build_quality import LABELS, train_quality, train_reference
    from demo_models import build_tokenizer, save, tiny_llama, train_lm

    from curate.scorers.fasttext_classifier import TrainConfig, save_report, train

    docs = sample_docs(sample)
    licences = licence_paragraphs()
    out.mkdir(parents=True, exist_ok=True)
    if (out / "lm").exists():  # only our own files: other builders share data/models/
        shutil.rmtree(out / "lm")
    small = TrainConfig(epoch=25, lr=0.5, dim=16, bucket=20_000, min_count=2, seed=SEED, max_chars=2000)

    quality = train_quality(LABELS, out / "quality.ftz")
    reference = train_reference(LABELS, out / "reference.ftz")

    tagged = [(d["text"], family(d["source"])) for d in docs if family(d["source"])]
    tagged += [(p, "legal") for p in licences]
    domain = train([t for t, _ in tagged], [label for _, label in tagged], out / "domain.ftz", small)
    save_report(domain, out / "domain.ftz")

    import torch

    torch.set_num_threads(1)  # one thread: bit-identical weights on every run
    clean = [d["text"] for d in docs if d["source"] != "synthetic-junk"]
    tokenizer = build_tokenizer(clean, vocab_size=2048)
    model = tiny_llama(tokenizer, hidden=64, layers=2, heads=4, context=512, seed=SEED)
    final_loss = train_lm(model, tokenizer, clean, steps=lm_steps, seq=128, batch=16, seed=SEED)
    save(model, tokenizer, out / "lm")

    summary = {
        "quality": quality,
        "reference": reference,
        "domain": {"accuracy": domain.accuracy, "labels": domain.labels},
        "lm": {"parameters": sum(p.numel() for p in model.parameters()), "final_train_loss": round(final_loss, 4)},
        "bytes": sum(p.stat().st_size for p in _ours(out)),
    }
    (out / "scorers.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return summary


def _ours(out: Path) -> list[Path]:
    names = ["quality.ftz", "reference.ftz", "domain.ftz", "quality-labels.parquet"]
    files = [out / n for n in names] + [out / f"{n}.metrics.json" for n in names if n.endswith(".ftz")]
    return [p for p in files if p.is_file()] + sorted(p for p in (out / "lm").rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", type=Path, default=ROOT / "sample", help="the sample corpus directory")
    parser.add_argument("--out", type=Path, default=ROOT / "models", help="where the models go")
    parser.add_argument("--lm-steps", type=int, default=300, help="training steps of the tiny LM")
    args = parser.parse_args()
    print(json.dumps(build(args.sample, args.out, args.lm_steps), indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
