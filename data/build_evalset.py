"""Build ``data/evalset/``: a small clean, multi-domain, multilingual held-out set for proxy comparisons.

Why: a proxy comparison must judge every candidate on text none of them was chosen by (Paloma's rule).
Held-out documents drawn from one candidate favour that candidate: with the raw sample as baseline they
include its junk, and a model trained on curated data is judged worse for not predicting junk. This set
comes from Debian packages that ``data/build_sample.py`` does not read — man pages of the base tools
(English and translated, not the manpages-XX packages) and the Italian, Portuguese and Japanese Debian
Reference (the sample uses other languages of it) — and any document sharing a paragraph with the sample
is dropped, so no document of it is in a candidate built from the sample.

    python data/build_evalset.py          # writes data/evalset/evalset.parquet (id, text, domain, lang, source, url)

Rebuild on Debian 12 with the packages listed in ``evalset/LICENSES.md`` installed; the same packages and
seed give the same bytes.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import zstandard

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_sample import REFERENCE, _docbook_root, chunk, html_paragraphs, in_language, man_paragraphs

SEED = 20240917
HERE = Path(__file__).resolve().parent
OUT = HERE / "evalset"
DOCS_PER_DOMAIN = 40
PER_PAGE = 4  # at most this many documents of one page, so the set spans many pages
_KANA_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
_LETTER = re.compile(r"[^\W\d_]")
_STOP = {
    "it": {"il", "di", "che", "la", "per", "un", "una", "con", "del", "della", "non", "sono", "gli", "è"},
    "pt": {"o", "de", "que", "para", "um", "uma", "com", "não", "os", "da", "do", "se", "é", "são"},
}


#: Debian packages whose English man pages are read (base tools every Debian system has).
EN_MAN_PACKAGES = ["coreutils", "findutils", "grep", "sed", "tar", "gzip", "diffutils", "util-linux", "dpkg",
                   "dpkg-dev", "apt", "man-db", "git-man", "procps", "bash", "passwd", "login", "xz-utils"]


def _owned(packages: list[str]) -> set[str]:
    done = subprocess.run(["dpkg", "-L", *packages], capture_output=True, text=True, check=False)
    return set(done.stdout.splitlines())


def _man_files(locale: str, exclude_package: str | None) -> list[Path]:
    """Man pages of one locale (``""``: English, of EN_MAN_PACKAGES), without the manpages-XX package the sample reads."""
    base = Path("/usr/share/man", locale) if locale else Path("/usr/share/man")
    files = sorted(p for sec in ("man1", "man5", "man8") for p in (base / sec).glob("*.gz"))
    if not locale:
        owned = _owned(EN_MAN_PACKAGES)
        return [p for p in files if str(p) in owned]
    if exclude_package:
        owned = _owned([exclude_package])
        files = [p for p in files if str(p) not in owned]
    return files


def _lang_ok(text: str, lang: str) -> bool:
    if lang == "ja":
        return len(_KANA_CJK.findall(text)) / (len(_LETTER.findall(text)) or 1) >= 0.3
    if lang in _STOP:
        words = re.findall(r"\w+", text.lower())
        return sum(w in _STOP[lang] for w in words) >= 2 and not _KANA_CJK.search(text)
    return in_language(text, lang)


#: (domain, lang, package named in the source column, files, extractor, url of a file)
DOMAINS = [
    ("en-manpages", "en", "base-system man pages", lambda: _man_files("", None), man_paragraphs,
     lambda p: f"https://manpages.debian.org/bookworm/{p.name.removesuffix('.gz')}.en.html"),
    *[(f"{lang}-manpages", lang, "base-system man pages", (lambda loc=loc, pkg=pkg: _man_files(loc, pkg)), man_paragraphs,
       (lambda p, loc=loc: f"https://manpages.debian.org/bookworm/{p.name.removesuffix('.gz')}.{loc}.html"))
      for lang, loc, pkg in [("de", "de", "manpages-de"), ("fr", "fr", "manpages-fr"), ("ru", "ru", "manpages-ru"),
                             ("zh", "zh_CN", "manpages-zh"), ("es", "es", "manpages-es")]],
    *[(f"{lang}-debian-reference", lang, f"debian-reference-{code}",
       (lambda code=code: sorted(p for p in Path(REFERENCE).glob(f"*.{code}.html") if not p.name.startswith("index."))),
       (lambda p: html_paragraphs(p, _docbook_root)),
       (lambda p: f"https://www.debian.org/doc/manuals/debian-reference/{p.name}"))
      for lang, code in [("it", "it"), ("pt", "pt"), ("ja", "ja")]],
]


def sample_paragraphs() -> set[str]:
    """Every paragraph of the shipped sample: an eval document sharing one with it is dropped."""
    texts: list[str] = []
    sample = HERE / "sample"
    texts += pq.read_table(sample / "web-00002.parquet", columns=["text"]).column("text").to_pylist()
    raw = gzip.decompress((sample / "web-00000.jsonl.gz").read_bytes()).decode("utf-8").splitlines()
    raw += zstandard.ZstdDecompressor().decompress((sample / "web-00001.jsonl.zst").read_bytes(), max_output_size=1 << 30).decode("utf-8").splitlines()
    for line in raw:
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(rec, dict) and isinstance(rec.get("text"), str):
            texts.append(rec["text"])
    return {p.strip() for t in texts for p in t.split("\n\n") if len(p.strip()) >= 40}


def collect(domain: tuple, want: int, rng: random.Random, seen: set[str]) -> list[dict]:
    name, lang, package, files_of, extract, url_of = domain
    files = files_of()
    if not files:
        raise SystemExit(f"no files for {name}: install the packages listed in data/evalset/LICENSES.md")
    rng.shuffle(files)
    docs: list[dict] = []
    for path in files:
        taken = 0
        paras = [(a, t) for a, t in extract(path) if _lang_ok(t, lang)]
        for i, (_, text) in enumerate(chunk(paras, rng, "zh" if lang in ("zh", "ja") else lang)):
            parts = [p.strip() for p in text.split("\n\n")]
            if len(text) / len(parts) < (12 if lang in ("zh", "ja") else 30) or any(p in seen for p in parts):
                continue  # a list of names, or text the sample has
            docs.append({"text": text, "domain": name, "lang": lang, "source": package, "url": url_of(path) + (f"#part-{i + 1}" if i else "")})
            taken += 1
            if taken == PER_PAGE or len(docs) >= want:
                break
        if len(docs) >= want:
            break
    return docs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=SEED, help="seed for every random choice")
    parser.add_argument("--per-domain", type=int, default=DOCS_PER_DOMAIN, help="documents per domain")
    parser.add_argument("--out", type=Path, default=OUT, help="output folder")
    args = parser.parse_args()
    seen = sample_paragraphs()
    rows: list[dict] = []
    for domain in DOMAINS:
        rows += collect(domain, args.per_domain, random.Random(f"{args.seed}/{domain[0]}"), seen)
    rows = [{"id": f"eval-{i:05d}", **r} for i, r in enumerate(rows)]
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "evalset.parquet"
    schema = pa.schema([(c, pa.string()) for c in ("id", "text", "domain", "lang", "source", "url")])
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path, compression="zstd", compression_level=19)
    counts = Counter(r["domain"] for r in rows)
    print("\n".join(f"{d}: {n} documents, {sum(len(r['text'].encode()) for r in rows if r['domain'] == d):,} bytes" for d, n in counts.items()))
    print(f"{path}: {len(rows)} documents, {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
