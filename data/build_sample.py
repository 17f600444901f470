"""Build ``data/sample/``: a small multilingual, web-like corpus from openly licensed Debian packages.

Why: the demo recipe, the tests and the benchmarks need real prose in several languages, with the
junk and the duplicates a crawl has, shipped with the repository and rebuilt exactly from packages
anyone can install offline. Nothing here is fetched from the web; every clean document comes from a
file that a Debian package installed, and its ``url`` says where the same text lives online.

Rebuild (Debian 12)::

    apt-get update
    apt-get install -y python3-doc debian-handbook debian-reference-en debian-reference-zh-cn \\
        debian-reference-de debian-reference-es debian-reference-fr debian-faq-zh-cn maint-guide-zh-cn \\
        manpages-zh manpages-de manpages-ru manpages-fr manpages-es fortunes fortunes-zh fortunes-de fortunes-es
    python data/build_sample.py

The same packages and seed give the same documents, ids and shard bytes.
"""

from __future__ import annotations

import argparse
import gzip
import html.parser
import io
import json
import math
import random
import re
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import pyarrow as pa
import pyarrow.parquet as pq
import zstandard

SEED = 20240601
OUT = Path(__file__).resolve().parent / "sample"
CLEAN_DOCS = 3300  # clean documents; junk and duplicates are added on top
MIN_CHARS, MAX_CHARS = 300, 3000
#: Chinese packs about three times the content per character: its documents are shorter in characters.
LENGTHS = {"zh": (200, 2000)}
JUNK_SHARE, EXACT_DUP_SHARE, NEAR_DUP_SHARE = 0.10, 0.03, 0.05
LANG_SHARE = {"en": 0.45, "zh": 0.30, "de": 0.12, "ru": 0.08, "es": 0.025, "fr": 0.025}

Paragraphs = list[tuple[str, str]]  # (anchor for the url fragment, paragraph text)


# ---------------------------------------------------------------- extraction: HTML


class _HtmlText(html.parser.HTMLParser):
    """Paragraphs of the main content of a page: block tags break paragraphs, chrome is skipped."""

    BLOCKS = {"p", "div", "li", "dt", "dd", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table",
              "blockquote", "ul", "ol", "dl", "section", "br", "td", "th"}
    SKIP_TAGS = {"script", "style", "head", "nav", "footer", "header", "title"}
    SKIP_CLASSES = {"headerlink", "sphinxsidebar", "related", "footer", "navheader", "navfooter", "toc",
                    "indexterm", "docnav", "legalnotice", "copyright", "breadcrumbs", "mobile-nav"}
    VOID = {"br", "img", "meta", "link", "hr", "input", "col", "area", "base", "wbr"}

    def __init__(self, root: Callable[[str, dict[str, str]], bool]) -> None:
        super().__init__(convert_charrefs=True)
        self.root = root
        self.depth = 0  # open-tag depth inside the content root (0: outside)
        self.skip_depth = 0  # open-tag depth inside a skipped subtree
        self.pre = 0
        self.anchor = ""
        self.buf: list[str] = []
        self.out: Paragraphs = []

    def _flush(self) -> None:
        text = "".join(self.buf)
        self.buf = []
        text = text.strip("\n") if self.pre else re.sub(r"\s+", " ", text).strip()
        if text:
            self.out.append((self.anchor, text))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        void = tag in self.VOID
        if self.depth == 0:
            if self.root(tag, a) and not void:
                self.depth = 1
            return
        if self.skip_depth:
            self.skip_depth += 0 if void else 1
            return
        if tag in self.SKIP_TAGS or self.SKIP_CLASSES & set(a.get("class", "").split()):
            self.skip_depth = 0 if void else 1
            return
        if not void:
            self.depth += 1
        if tag in self.BLOCKS:
            self._flush()
        if tag == "pre":
            self.pre += 1
        if a.get("id") and (tag in {"section", "h1", "h2", "h3", "dt", "a"} or "section" in a.get("class", "")):
            self.anchor = a["id"]

    def handle_endtag(self, tag: str) -> None:
        if self.depth == 0 or tag in self.VOID:
            return
        if self.skip_depth:
            self.skip_depth -= 1
            return
        if tag in self.BLOCKS:
            self._flush()
        if tag == "pre":
            self.pre = max(0, self.pre - 1)
        self.depth -= 1
        if self.depth == 0:
            self._flush()

    def handle_data(self, data: str) -> None:
        if self.depth and not self.skip_depth:
            self.buf.append(data.replace("\u00b6", ""))


def html_paragraphs(path: Path, root: Callable[[str, dict[str, str]], bool]) -> Paragraphs:
    parser = _HtmlText(root)
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    parser.close()
    parser._flush()
    return parser.out


def _sphinx_root(tag: str, a: dict[str, str]) -> bool:
    return tag == "div" and a.get("role") == "main"


def _docbook_root(tag: str, a: dict[str, str]) -> bool:
    return tag == "body"


# ---------------------------------------------------------------- extraction: man pages

_TROFF_ESCAPES = [
    (re.compile(r"\\f(\[[^\]]*\]|\(..|.)"), ""),  # font changes
    (re.compile(r"\\s[+-]?\d"), ""),  # size changes
    (re.compile(r"\\m\[[^\]]*\]|\\[ud]"), ""),  # colours, half-line motions
    (re.compile(r"\\[hvw]'[^']*'"), ""),  # motions and widths
    (re.compile(r"\\t"), "\t"),
    (re.compile(r"\\\*(\(..|\[[^\]]*\]|.)"), ""),  # string registers
    (re.compile(r"\\\((em|en)"), "\u2014"),
    (re.compile(r"\\\((lq|rq|dq)"), '"'),
    (re.compile(r"\\\((oq|cq|aq)"), "'"),
    (re.compile(r"\\\((bu)"), "\u2022"),
    (re.compile(r"\\\(co"), "\u00a9"),
    (re.compile(r"\\\(..|\\\[[^\]]*\]"), ""),
    (re.compile(r"\\[-]"), "-"),
    (re.compile(r"\\[&/,:%|^)]"), ""),
    (re.compile(r"\\[ ~0]"), " "),
    (re.compile(r"\\e"), "\\\\"),
    (re.compile(r"\\c$"), ""),
]
_FONT_MACROS = {"B", "I", "BR", "BI", "IB", "IR", "RB", "RI", "SM", "SB", "UR", "MT", "OP"}


def _troff_inline(line: str) -> str:
    for pattern, repl in _TROFF_ESCAPES:
        line = pattern.sub(repl, line)
    return line.replace("\\\\", "\\")


def _macro_args(rest: str) -> list[str]:
    return [a.strip('"') for a in re.findall(r'"[^"]*"|\S+', rest)]


def man_paragraphs(path: Path) -> Paragraphs:
    """Paragraphs of a man(7) page (troff stripped by rules); mdoc pages are not handled and give []."""
    raw = gzip.decompress(path.read_bytes()).decode("utf-8", errors="replace")
    if re.search(r"^\.(Dd|Sh) ", raw, re.M) or re.search(r"^\.so ", raw, re.M):
        return []
    out: Paragraphs = []
    anchor, buf, tag_next, nofill = "", [], False, False

    def flush() -> None:
        text = "\n".join(buf) if nofill else re.sub(r"[ \t]+", " ", " ".join(buf)).strip()
        text = text.replace(" \n ", "\n").strip()
        if text:
            out.append((anchor, text))
        buf.clear()

    for line in raw.splitlines():
        if line.startswith((".\\\"", "'\\\"", '.\\"')) or line.strip() in {".", "'"}:
            continue
        if line.startswith((".", "'")):
            name, _, rest = line[1:].strip().partition(" ")
            if name in {"SH", "SS"}:
                flush()
                title = " ".join(_macro_args(_troff_inline(rest)))
                anchor = re.sub(r"\W+", "_", title).strip("_") or anchor
                if title:
                    out.append((anchor, title))
            elif name in {"PP", "P", "LP", "TP", "IP", "HP", "sp", "TQ"}:
                flush()
                tag_next = name in {"TP", "TQ"}
                if name == "IP" and rest.strip():
                    buf.append(_troff_inline(_macro_args(rest)[0]) + "\n")
            elif name in _FONT_MACROS:
                buf.append("".join(_macro_args(_troff_inline(rest))) if len(name) == 2 else _troff_inline(rest).strip('"'))
                if tag_next:
                    buf.append("\n")
                    tag_next = False
            elif name in {"nf", "EX"}:
                flush()
                nofill = True
            elif name in {"fi", "EE"}:
                flush()
                nofill = False
            elif name == "br":
                buf.append("\n")
            continue  # TH, RS, RE, in, ad, na, ne, ... carry no text
        text = _troff_inline(line)
        buf.append(text)
        if tag_next:
            buf.append("\n")
            tag_next = False
    flush()
    return [(a, re.sub(r" *\n *", "\n", t)) for a, t in out]


# ---------------------------------------------------------------- extraction: fortunes

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def fortune_paragraphs(path: Path) -> Paragraphs:
    text = _ANSI.sub("", path.read_text(encoding="utf-8", errors="replace"))
    entries = [e.strip("\n") for e in re.split(r"^%\s*$", text, flags=re.M)]
    return [(str(i), e) for i, e in enumerate(entries) if e.strip()]


# ---------------------------------------------------------------- language checks (per paragraph)

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_CYR = re.compile(r"[\u0400-\u04ff]")
_LETTER = re.compile(r"[^\W\d_]")
_STOP = {
    "en": {"the", "and", "of", "to", "is", "in", "that", "it", "for", "with", "you", "this", "are", "be"},
    "de": {"der", "die", "das", "und", "ist", "nicht", "mit", "sie", "ein", "eine", "den", "von", "zu", "wird"},
    "es": {"el", "la", "los", "las", "que", "de", "y", "es", "en", "un", "una", "por", "para", "con", "se"},
    "fr": {"le", "la", "les", "des", "et", "est", "une", "un", "que", "pour", "dans", "pas", "sur", "du"},
}


def in_language(text: str, lang: str) -> bool:
    """True when a paragraph is written in ``lang`` (untranslated paragraphs of translations are dropped)."""
    letters = len(_LETTER.findall(text)) or 1
    if lang == "zh":
        return len(_CJK.findall(text)) / letters >= 0.3
    if lang == "ru":
        return len(_CYR.findall(text)) / letters >= 0.5
    if _CJK.search(text) or len(_CYR.findall(text)) > 3:
        return False
    if lang == "en":
        return True
    words = re.findall(r"\w+", text.lower())
    own = sum(w in _STOP[lang] for w in words)
    return own >= 1 and own > sum(w in _STOP["en"] for w in words)


# ---------------------------------------------------------------- sources


@dataclass(frozen=True)
class Source:
    """One Debian package as a source of clean documents in one language."""

    package: str  # the package that installed the files (the ``source`` column)
    lang: str
    weight: float  # share of its language's documents
    files: Callable[[], list[Path]]
    extract: Callable[[Path], Paragraphs]
    url: Callable[[Path], str]


def _glob(pattern: str, base: str) -> Callable[[], list[Path]]:
    """Files of a folder, without the tables of contents (index pages are lists of links, not prose)."""
    return lambda: sorted(p for p in Path(base).glob(pattern) if not p.name.startswith("index."))


def _package_files(package: str, pattern: str) -> Callable[[], list[Path]]:
    def files() -> list[Path]:
        done = subprocess.run(["dpkg", "-L", package], capture_output=True, text=True)
        listed = done.stdout if done.returncode == 0 else ""
        return sorted(Path(p) for p in listed.splitlines() if re.search(pattern, p) and Path(p).is_file())
    return files


def _named(base: str, names: list[str]) -> Callable[[], list[Path]]:
    return lambda: [Path(base) / n for n in names if (Path(base) / n).is_file()]


PYDOC = "/usr/share/doc/python3.11/html"
HANDBOOK = "/usr/share/doc/debian-handbook/html"
REFERENCE = "/usr/share/debian-reference"
FORTUNES = "/usr/share/games/fortunes"


def _pydoc_files() -> list[Path]:
    """The prose parts of the Python docs (not the indexes, the C API or the changelogs)."""
    dirs = ["library", "tutorial", "howto", "faq", "reference", "using"]
    return sorted(p for d in dirs for p in Path(PYDOC, d).glob("*.html")) + [Path(PYDOC, "glossary.html")]


def _pydoc_url(p: Path) -> str:
    return "https://docs.python.org/3.11/" + p.relative_to(PYDOC).as_posix()


def _handbook(lang: str, locale: str, weight: float) -> Source:
    return Source("debian-handbook", lang, weight, _glob("*.html", f"{HANDBOOK}/{locale}"),
                  lambda p: html_paragraphs(p, _docbook_root),
                  lambda p: f"https://debian-handbook.info/browse/{locale}/stable/{p.name}")


def _reference(lang: str, code: str, weight: float) -> Source:
    return Source(f"debian-reference-{code}", lang, weight, _glob(f"*.{code}.html", REFERENCE),
                  lambda p: html_paragraphs(p, _docbook_root),
                  lambda p: f"https://www.debian.org/doc/manuals/debian-reference/{p.name}")


def _manpages(lang: str, package: str, locale: str, weight: float) -> Source:
    def url(p: Path) -> str:
        page = p.name.removesuffix(".gz")
        return f"https://manpages.debian.org/bookworm/{package}/{page}.{locale}.html"
    return Source(package, lang, weight, _package_files(package, rf"/man/{locale}/man\d/.*\.gz$"), man_paragraphs, url)


def _fortunes(lang: str, package: str, version: str, base: str, names: list[str], weight: float) -> Source:
    return Source(package, lang, weight, _named(base, names), fortune_paragraphs,
                  lambda p: f"https://sources.debian.org/src/{package}/{version}/{p.name}/")


SOURCES: list[Source] = [
    Source("python3.11-doc", "en", 0.55, _pydoc_files, lambda p: html_paragraphs(p, _sphinx_root), _pydoc_url),
    _handbook("en", "en-US", 0.25),
    _reference("en", "en", 0.12),
    _fortunes("en", "fortunes", "1.99.1-7.3", FORTUNES,
              ["computers", "science", "wisdom", "literature", "education", "work", "linuxcookie",
               "songs-poems", "people", "platitudes"], 0.08),
    _manpages("zh", "manpages-zh", "zh_CN", 0.40),
    _handbook("zh", "zh-CN", 0.25),
    _reference("zh", "zh-cn", 0.15),
    Source("debian-faq-zh-cn", "zh", 0.05, _glob("*.zh-cn.html", "/usr/share/doc/debian/FAQ/zh-cn"),
           lambda p: html_paragraphs(p, _docbook_root),
           lambda p: f"https://www.debian.org/doc/manuals/debian-faq/{p.name}"),
    Source("maint-guide-zh-cn", "zh", 0.10, _glob("*.zh-cn.html", "/usr/share/doc/maint-guide-zh-cn/html"),
           lambda p: html_paragraphs(p, _docbook_root),
           lambda p: f"https://www.debian.org/doc/manuals/maint-guide/{p.name}"),
    _fortunes("zh", "fortunes-zh", "2.98", FORTUNES, ["tang300", "song100"], 0.05),
    _manpages("de", "manpages-de", "de", 0.45),
    _handbook("de", "de-DE", 0.30),
    _reference("de", "de", 0.15),
    _fortunes("de", "fortunes-de", "0.35-1", f"{FORTUNES}/de",
              ["computer", "gedichte", "mathematiker", "murphy", "sprichworte", "zitate", "wusstensie"], 0.10),
    _manpages("ru", "manpages-ru", "ru", 0.45),
    _handbook("ru", "ru-RU", 0.55),
    _manpages("es", "manpages-es", "es", 0.40),
    _handbook("es", "es-ES", 0.30),
    _reference("es", "es", 0.15),
    _fortunes("es", "fortunes-es", "1.36", f"{FORTUNES}/es",
              ["ciencia.fortunes", "filosofia.fortunes", "informatica.fortunes", "proverbios.fortunes",
               "refranes.fortunes", "sabiduria.fortunes", "lao-tse.fortunes"], 0.15),
    _manpages("fr", "manpages-fr", "fr", 0.45),
    _handbook("fr", "fr-FR", 0.35),
    _reference("fr", "fr", 0.20),
]


# ---------------------------------------------------------------- chunking


def _split_long(text: str, max_chars: int) -> list[str]:
    """Cut a paragraph longer than ``max_chars`` at sentence ends (or hard, when it has none)."""
    if len(text) <= max_chars:
        return [text]
    parts, cur = [], ""
    for sentence in re.split(r"(?<=[.!?。！？])\s*", text):
        if cur and len(cur) + len(sentence) + 1 > max_chars:
            parts.append(cur)
            cur = ""
        cur = f"{cur} {sentence}".strip() if cur and not _CJK.search(sentence[:1]) else cur + sentence
    parts.append(cur)
    return [p[i:i + max_chars] for p in parts for i in range(0, len(p), max_chars) if p[i:i + max_chars].strip()]


def chunk(paragraphs: Paragraphs, rng: random.Random, lang: str) -> Iterator[tuple[str, str]]:
    """Paragraph-aligned documents within the language's length range; each length target is log-uniform."""
    lo, hi = LENGTHS.get(lang, (MIN_CHARS, MAX_CHARS))

    def new_target() -> float:
        return math.exp(rng.uniform(math.log(lo * 1.3), math.log(hi)))

    target, anchor, buf, size = new_target(), "", [], 0
    for a, para in paragraphs:
        for piece in _split_long(para, hi):
            if buf and size + len(piece) + 2 > hi:
                if size >= lo:
                    yield anchor, "\n\n".join(buf)
                buf, size, target = [], 0, new_target()
            if not buf:
                anchor = a
            buf.append(piece)
            size += len(piece) + 2
            if size >= target:
                yield anchor, "\n\n".join(buf)
                buf, size, target = [], 0, new_target()
    if buf and size >= lo:
        yield anchor, "\n\n".join(buf)


def _prose(text: str, lang: str) -> bool:
    """False for lists of links or names (tables of contents): their paragraphs are a few words each."""
    paragraphs = text.split("\n\n")
    return len(text) / len(paragraphs) >= (12 if lang == "zh" else 30)


@dataclass
class Doc:
    text: str
    url: str
    source: str
    lang: str
    kind: str  # clean | junk | exact_dup | near_dup
    detail: str = ""  # the kind of junk


def collect(source: Source, want: int, rng: random.Random) -> list[Doc]:
    """Up to ``want`` documents from a source, read from files in a seeded order until there are enough."""
    files = source.files()
    if not files:
        raise SystemExit(f"no files of {source.package} ({source.lang}): apt-get install -y {source.package}")
    rng.shuffle(files)
    pool: list[Doc] = []
    for path in files:
        paras = [(a, t) for a, t in source.extract(path) if in_language(t, source.lang)]
        url = source.url(path)
        for i, (anchor, text) in enumerate(chunk(paras, rng, source.lang)):
            if not _prose(text, source.lang):
                continue
            frag = f"#{anchor}" if i and anchor else (f"#part-{i + 1}" if i else "")
            pool.append(Doc(text, url + frag, source.package, source.lang, "clean"))
        if len(pool) >= 3 * want:
            break
    rng.shuffle(pool)
    # At most a few documents per page so the sample spans many pages.
    per_page: Counter[str] = Counter()
    first, rest = [], []
    for doc in pool:
        page = doc.url.split("#")[0]
        per_page[page] += 1
        (first if per_page[page] <= 4 else rest).append(doc)
    return (first + rest)[:want]


# ---------------------------------------------------------------- junk and duplicates

_SPAM_HOSTS = ["cheap-deals.example", "best-price-now.example", "free-download-zone.example", "win-big.example",
               "top10-reviews.example", "sale-outlet.example", "seo-links.example", "hot-news-today.example"]
_KEYWORDS = {
    "en": ["cheap flights", "best price", "buy now", "free download", "discount laptop", "online casino bonus",
           "weight loss fast", "cheap hotels"],
    "zh": ["便宜机票", "最低价格", "立即购买", "免费下载", "优惠券", "网上赌场", "快速减肥", "特价酒店"],
    "de": ["günstige Flüge", "bester Preis", "jetzt kaufen", "kostenlos herunterladen", "Rabatt", "Online Casino"],
    "ru": ["дешевые авиабилеты", "лучшая цена", "купить сейчас", "скачать бесплатно", "скидки", "онлайн казино"],
}
_NAV = {
    "en": "Home | About | Contact | Login | Register | Privacy Policy | Terms of Use | Sitemap",
    "zh": "首页 | 关于我们 | 联系我们 | 登录 | 注册 | 隐私政策 | 网站地图",
    "de": "Startseite | Über uns | Kontakt | Anmelden | Registrieren | Datenschutz | Impressum",
    "ru": "Главная | О нас | Контакты | Вход | Регистрация | Политика конфиденциальности",
}
_TINY = ["Click here", "Page not found", "404", "Loading...", "点击这里", "页面不存在", "Weiter →", "Читать далее",
         "Subscribe!", "OK", "更多 >>", "Seite 2 von 9"]
_SYLLABLES = ["lo", "rem", "ip", "sum", "do", "lor", "sit", "am", "et", "con", "sec", "tur", "adi", "pis", "ci", "ng",
              "el", "it", "sed", "eiu", "smod", "tem", "por", "inci", "dunt", "ut", "la", "bo", "re", "mag", "na"]


def _spam_url(rng: random.Random) -> str:
    path = "-".join(rng.choice(["deal", "offer", "best", "cheap", "free", "top", "2023", "hot", "win", "now"])
                    for _ in range(rng.randint(2, 4)))
    return f"http://{rng.choice(_SPAM_HOSTS)}/{path}-{rng.randint(1, 99999)}.html"


def junk(rng: random.Random) -> Doc:
    """One junk document of a random kind, in a random language: what quality filters should drop."""
    lang = rng.choice(["en", "en", "zh", "zh", "de", "ru"])
    kind = rng.choice(["keywords", "nav", "repeat", "symbols", "tiny", "numbers", "gibberish"])
    if kind == "keywords":
        words = _KEYWORDS[lang]
        sep = "，" if lang == "zh" else ", "
        text = sep.join(rng.choice(words) for _ in range(rng.randint(40, 160)))
    elif kind == "nav":
        lines = [_NAV[lang]] * rng.randint(3, 12)
        lines.insert(rng.randrange(len(lines)), "© 2023 All rights reserved. Powered by WordPress")
        text = "\n".join(lines)
    elif kind == "repeat":
        line = rng.choice(list(_KEYWORDS[lang])) + rng.choice(["!!!", " >>>", "！！", " - click here"])
        text = "\n".join([line] * rng.randint(20, 80))
    elif kind == "symbols":
        text = "".join(rng.choice("#$%&*@!?~^=+<>[]{}|/\\_-•★☆◆■□▲►※") for _ in range(rng.randint(200, 1500)))
    elif kind == "tiny":
        text = rng.choice(_TINY)
    elif kind == "numbers":
        rows = [" ".join(str(rng.randint(0, 99999)) for _ in range(rng.randint(5, 12))) for _ in range(rng.randint(10, 80))]
        text = "\n".join(rows)
    else:
        words = ["".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(1, 4))) for _ in range(rng.randint(60, 400))]
        text = " ".join(words).capitalize() + "."
    return Doc(text, _spam_url(rng), "synthetic-junk", lang, "junk", kind)


_MIRRORS = ["http://mirror.example.org/", "https://docs-archive.example.net/", "http://copy-paste.example.com/"]
_HEADERS = {
    "zh": ["转载自网络，如有侵权请联系删除。", "本文来源：互联网", "作者：佚名  发布时间：2023-05-01"],
    "other": ["Posted by admin on 2023-05-01", "Originally published elsewhere. Reposted with permission.",
              "Last updated: March 2024", "Share this article: Facebook | Twitter | Email"],
}


def near_duplicate(doc: Doc, rng: random.Random) -> Doc:
    """A copy with a few edits: words swapped, inserted or deleted, or a header line added."""
    how = rng.choice(["edit", "edit", "header"])
    if how == "header":
        header = rng.choice(_HEADERS["zh" if doc.lang == "zh" else "other"])
        text = f"{header}\n\n{doc.text}"
    elif doc.lang == "zh":
        chars = list(doc.text)
        for _ in range(rng.randint(2, 5)):
            i = rng.randrange(len(chars))
            op = rng.choice(["del", "ins", "sub"])
            if op == "del":
                del chars[i]
            else:
                c = rng.choice("的了是在和有我这个们中来上大为")
                chars[i:i + (op == "sub")] = [c]
        text = "".join(chars)
    else:
        words = doc.text.split(" ")
        for _ in range(rng.randint(2, 5)):
            i = rng.randrange(len(words))
            op = rng.choice(["del", "ins", "sub"])
            if op == "del" and len(words) > 10:
                del words[i]
            else:
                words[i:i + (op == "sub")] = [rng.choice(words)]
        text = " ".join(words)
    url = rng.choice(_MIRRORS) + doc.url.split("://", 1)[1].split("/", 1)[1]
    return Doc(text, url, doc.source, doc.lang, "near_dup")


# ---------------------------------------------------------------- assembly and writing


def build(seed: int) -> list[Doc]:
    rng = random.Random(seed)
    docs: list[Doc] = []
    for lang, share in LANG_SHARE.items():
        sources = [s for s in SOURCES if s.lang == lang]
        want_lang = round(CLEAN_DOCS * share)
        quota = [round(want_lang * s.weight) for s in sources]
        quota[0] += want_lang - sum(quota)
        got = [collect(s, q, random.Random(f"{seed}:{s.package}:{lang}")) for s, q in zip(sources, quota)]
        for k, src in enumerate(sources):  # a source that ran short is made up by the next ones
            short = want_lang - sum(map(len, got))
            if short > 0 and len(got[k]) == quota[k]:
                got[k] = collect(src, quota[k] + short, random.Random(f"{seed}:{src.package}:{lang}"))
        docs += [d for part in got for d in part]
    total = round(len(docs) / (1 - JUNK_SHARE - EXACT_DUP_SHARE - NEAR_DUP_SHARE))
    clean = list(docs)
    docs += [junk(rng) for _ in range(round(total * JUNK_SHARE))]
    for original in rng.sample(clean, round(total * EXACT_DUP_SHARE)):
        docs.append(Doc(original.text, original.url, original.source, original.lang, "exact_dup"))
    long_enough = [d for d in clean if len(d.text) >= 500]
    docs += [near_duplicate(d, rng) for d in rng.sample(long_enough, round(total * NEAR_DUP_SHARE))]
    rng.shuffle(docs)
    return docs


def records(docs: list[Doc]) -> list[dict[str, str]]:
    return [{"id": f"sample-{i:06d}", "text": d.text, "url": d.url, "source": d.source} for i, d in enumerate(docs)]


_MALFORMED = [
    b'{"id": "sample-bad-0001", "text": "A record cut off in the middle of a wri',
    b'{"id": "sample-bad-0002", "text": 404, "url": "http://broken.example/404", "source": "synthetic-junk"}',
    b'["sample-bad-0003", "a JSON array where an object belongs"]',
]


def _jsonl_bytes(rows: list[dict[str, str]], malformed: bool) -> bytes:
    lines = [json.dumps(r, ensure_ascii=False).encode() for r in rows]
    if malformed:
        for k, bad in enumerate(_MALFORMED):
            lines.insert((k + 1) * len(lines) // (len(_MALFORMED) + 1), bad)
    return b"\n".join(lines) + b"\n"


def write_shards(rows: list[dict[str, str]], out: Path) -> list[Path]:
    """Three shards of one third each: JSONL+gzip (with malformed lines), JSONL+zstd, Parquet+zstd."""
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("web-*"):
        old.unlink()
    third = -(-len(rows) // 3)
    parts = [rows[i * third:(i + 1) * third] for i in range(3)]
    gz = out / "web-00000.jsonl.gz"
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9, mtime=0, filename="") as f:
        f.write(_jsonl_bytes(parts[0], malformed=True))
    gz.write_bytes(buf.getvalue())
    zst = out / "web-00001.jsonl.zst"
    zst.write_bytes(zstandard.ZstdCompressor(level=19).compress(_jsonl_bytes(parts[1], malformed=False)))
    pqt = out / "web-00002.parquet"
    schema = pa.schema([(name, pa.string()) for name in ("id", "text", "url", "source")])
    pq.write_table(pa.Table.from_pylist(parts[2], schema=schema), pqt, compression="zstd", compression_level=19,
                   row_group_size=512)
    return [gz, zst, pqt]


def composition(docs: list[Doc]) -> str:
    by_kind = Counter(d.kind for d in docs)
    clean_lang = Counter(d.lang for d in docs if d.kind == "clean")
    all_lang = Counter(d.lang for d in docs if d.kind != "junk")
    by_source = Counter(d.source for d in docs if d.kind == "clean")
    lines = [f"documents: {len(docs)}", "kinds: " + ", ".join(f"{k} {v}" for k, v in by_kind.most_common()),
             "clean by language: " + ", ".join(f"{k} {v}" for k, v in clean_lang.most_common()),
             "clean and duplicates by language: " + ", ".join(f"{k} {v}" for k, v in all_lang.most_common()),
             "junk by kind: " + ", ".join(f"{k} {v}" for k, v in sorted(Counter(d.detail for d in docs if d.kind == "junk").items())),
             "junk by language: " + ", ".join(f"{k} {v}" for k, v in Counter(d.lang for d in docs if d.kind == "junk").most_common()),
             "clean by package: " + ", ".join(f"{k} {v}" for k, v in by_source.most_common())]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=SEED, help="seed for every random choice")
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the shards")
    args = parser.parse_args()
    docs = build(args.seed)
    paths = write_shards(records(docs), args.out)
    print(composition(docs))
    for p in paths:
        print(f"{p.name}: {p.stat().st_size} bytes")
    print(f"total: {sum(p.stat().st_size for p in paths)} bytes")


if __name__ == "__main__":
    main()
