"""Build ``data/parallel/``: the same documents in eleven languages, from the Debian Administrator's Handbook.

Why: a filter set is fair across languages when a document and its faithful translation get the same
verdict. Measuring that needs parallel text: ``curate calibrate`` runs a recipe over every language of this
set and compares each language's removal rate with English on the same documents. The handbook is
translated block by block from one DocBook source (PO files), so every language's HTML page has the same
blocks in the same order under the same section ids; that is what aligns them here.

How: each page is read into blocks (paragraphs, list items, headings, ``pre`` listings) under their
section anchor. A section is used only where every language has the same number of blocks with the same
kinds. A prose block is usable in a language when it is translated there: it differs from the English
block and is written in that language (script or function-word checks). Short blocks identical in every
language (a command, a heading such as ``APT``) and ``pre`` listings count as translated. Documents are
runs of consecutive blocks of one page whose every block is usable in *all* of :data:`LANGS`, cut at the
English length targets; so document ``handbook-0042`` is the same content in every file. Korean, whose
translation covers about a tenth of the book, gets the documents it has as well (a subset).

Rebuild (Debian 12)::

    apt-get install -y debian-handbook
    python data/build_parallel.py

The same package version and seed give the same bytes.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import math
import random
import re
from dataclasses import dataclass
from pathlib import Path

import build_sample as bs

SEED = 20240917
OUT = Path(__file__).resolve().parent / "parallel"
HANDBOOK = Path("/usr/share/doc/debian-handbook/html")
#: Language code -> handbook locale. Every document is in all of these.
LANGS = {"en": "en-US", "de": "de-DE", "ru": "ru-RU", "pl": "pl-PL", "fr": "fr-FR", "pt": "pt-BR",
         "it": "it-IT", "zh": "zh-CN", "es": "es-ES", "ja": "ja-JP"}
#: Languages whose translation is too partial for the common set: they get the subset they have.
PARTIAL = {"ko": "ko-KR"}
MIN_CHARS, MAX_CHARS = 250, 1200  # English characters per document (log-uniform target in between)
NEUTRAL_CHARS = 40  # a block this short and identical in every language is language-neutral
PROSE_SHARE = 0.5  # least share of a document's English characters in translated prose blocks
_EN_STOP = bs._STOP["en"]
_SCRIPT = {  # share of letters a translated block has in the language's own script
    "zh": (re.compile(r"[\u3400-\u9fff]"), 0.3),
    "ja": (re.compile(r"[\u3040-\u30ff\u3400-\u9fff]"), 0.3),
    "ko": (re.compile(r"[\uac00-\ud7af]"), 0.3),
    "ru": (re.compile(r"[\u0400-\u04ff]"), 0.5),
}


@dataclass(frozen=True)
class Block:
    anchor: str
    text: str
    pre: bool


class _Blocks(bs._HtmlText):
    """The sample builder's handbook parser, keeping whether a block is a ``pre`` listing; no page banner."""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.depth and not self.skip_depth and ("id", "banner") in attrs:
            self.skip_depth = 1
            return
        super().handle_starttag(tag, attrs)

    def _flush(self) -> None:
        text, self.buf = "".join(self.buf), []
        text = text.strip("\n") if self.pre else re.sub(r"\s+", " ", text).strip()
        if text:
            self.out.append(Block(self.anchor, text, bool(self.pre)))


def page_blocks(path: Path) -> list[Block]:
    parser = _Blocks(bs._docbook_root)
    parser.feed(path.read_text(encoding="utf-8"))
    parser.close()
    parser._flush()
    return parser.out


def _en_share(text: str) -> float:
    words = re.findall(r"\w+", text.lower())
    return sum(w in _EN_STOP for w in words) / max(1, len(words))


def translated(en: Block, other: Block, lang: str) -> bool:
    """Whether ``other`` is a translation of ``en`` into ``lang`` (not the English left in place)."""
    if en.pre:
        return True
    if other.text == en.text:
        return False
    letters = len(bs._LETTER.findall(other.text)) or 1
    if lang in _SCRIPT:
        pattern, share = _SCRIPT[lang]
        return len(pattern.findall(other.text)) / letters >= share
    return _en_share(other.text) <= 0.5 * _en_share(en.text) or _en_share(en.text) == 0


def _aligned(pages: dict[str, list[Block]]) -> list[dict[str, Block]]:
    """Blocks of one page aligned across languages, section by section; misaligned sections are skipped."""
    sections: dict[str, dict[str, list[Block]]] = {}
    for lang, blocks in pages.items():
        for b in blocks:
            sections.setdefault(b.anchor, {}).setdefault(lang, []).append(b)
    out = []
    for anchor in dict.fromkeys(b.anchor for b in pages["en"]):  # English section order
        per = sections[anchor]
        kinds = [b.pre for b in per["en"]]
        if all(len(per.get(lang, [])) == len(kinds) and [b.pre for b in per[lang]] == kinds for lang in pages):
            out += [{lang: per[lang][i] for lang in pages} for i in range(len(kinds))]
    return out


def usable(row: dict[str, Block], langs: list[str]) -> dict[str, bool]:
    """Per language, whether the row's block can stand in a document of that language; ``prose``: whether
    it is translated prose (neither a listing nor language-neutral)."""
    en = row["en"]
    neutral = len(en.text) <= NEUTRAL_CHARS and all(row[lang].text == en.text for lang in row)
    ok = {lang: lang == "en" or neutral or translated(en, row[lang], lang) for lang in langs}
    return {**ok, "prose": not (en.pre or neutral)}


def documents(rows: list[dict[str, Block]], rng: random.Random) -> list[list[int]]:
    """Documents of one page as row indices: consecutive usable rows up to an English length target."""
    def target() -> float:
        return math.exp(rng.uniform(math.log(MIN_CHARS * 1.3), math.log(MAX_CHARS)))

    docs, cur, size, goal = [], [], 0, target()
    for i, row in enumerate(rows):
        n = len(row["en"].text) + 2
        if cur and size + n > MAX_CHARS:
            if size >= MIN_CHARS:
                docs.append(cur)
            cur, size, goal = [], 0, target()
        if n > MAX_CHARS:
            continue
        cur.append(i)
        size += n
        if size >= goal:
            docs.append(cur)
            cur, size, goal = [], 0, target()
    if cur and size >= MIN_CHARS:
        docs.append(cur)
    return docs


def build(seed: int) -> dict[str, list[dict[str, str]]]:
    rng = random.Random(seed)
    langs = {**LANGS, **PARTIAL}
    english = HANDBOOK / LANGS["en"]
    if not english.is_dir():
        raise SystemExit(f"no {english}: apt-get install -y debian-handbook")
    out: dict[str, list[dict[str, str]]] = {lang: [] for lang in langs}
    for path in sorted(p for p in english.glob("*.html") if p.name != "index.html"):
        pages = {lang: page_blocks(HANDBOOK / loc / path.name) for lang, loc in langs.items()}
        rows = _aligned(pages)
        ok = [usable(r, list(langs)) for r in rows]
        common = [i for i, u in enumerate(ok) if all(u[lang] for lang in LANGS)]
        for index in _documents([rows[i] for i in common], [ok[i] for i in common], rng):
            index = [common[i] for i in index]
            doc_id = f"handbook-{len(out['en']):04d}"
            for lang in langs:
                if lang in LANGS or all(ok[i][lang] for i in index):
                    out[lang].append(_record(doc_id, lang, path.name, [rows[i] for i in index]))
    return out


def _documents(rows: list[dict[str, Block]], ok: list[dict[str, bool]], rng: random.Random) -> list[list[int]]:
    """Documents of one page's usable rows, without those that are mostly listings and neutral lines."""
    out = []
    for index in documents(rows, rng):
        prose = sum(len(rows[i]["en"].text) for i in index if ok[i]["prose"])
        if prose >= PROSE_SHARE * sum(len(rows[i]["en"].text) for i in index):
            out.append(index)  # else the same text in every language: it tests nothing
    return out


def _record(doc_id: str, lang: str, page: str, rows: list[dict[str, Block]]) -> dict[str, str]:
    anchor = rows[0]["en"].anchor
    url = f"https://debian-handbook.info/browse/{({**LANGS, **PARTIAL})[lang]}/stable/{page}" + (f"#{anchor}" if anchor else "")
    text = "\n\n".join(r[lang].text for r in rows)
    return {"id": doc_id, "lang": lang, "text": text, "url": url, "source": "debian-handbook"}


def write(docs: dict[str, list[dict[str, str]]], folder: Path) -> list[Path]:
    """One ``LANG.jsonl.gz`` per language, byte-stable (gzip without a time stamp or file name)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for lang, rows in docs.items():
        buf = io.BytesIO()
        with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9, mtime=0, filename="") as f:
            f.write(b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in rows))
        path = folder / f"{lang}.jsonl.gz"
        path.write_bytes(buf.getvalue())
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=SEED, help="seed of the document length targets")
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the LANG.jsonl.gz files")
    args = parser.parse_args()
    docs = build(args.seed)
    paths = write(docs, args.out)
    for lang, path in zip(docs, paths):
        chars = sum(len(r["text"]) for r in docs[lang])
        print(f"{lang}: {len(docs[lang])} documents, {chars:,} characters, {path.stat().st_size:,} bytes")
    print(f"total: {sum(p.stat().st_size for p in paths):,} bytes")


if __name__ == "__main__":
    main()
