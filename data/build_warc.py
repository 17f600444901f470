"""Build ``data/warc/sample.warc.gz``: a small crawl of HTML pages made from the shipped sample's text.

Why: WARC input, ``html_extract`` and ``recipes/warc.yaml`` need a real WARC file with what a crawl holds —
pages wrapped in navigation, sidebars and footers, in several charsets, next to request, metadata and
non-HTML records — shipped with the repository and rebuilt offline, byte for byte.

The page text is taken from ``data/sample/web-00002.parquet`` (excerpts of Debian-packaged documentation
under free licences, see ``data/sample/LICENSES.md``); the page chrome, the spam page and one sentence added
to the first page (mojibake, a special token, an e-mail address) are written here.
Records are written with FastWARC, one gzip member per record, with fixed dates and ids derived from the
URL, so the same sample gives the same bytes::

    python data/build_warc.py            # --out FILE for another place
"""

from __future__ import annotations

import argparse
import fnmatch
import html
import uuid
from pathlib import Path

import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent
SAMPLE = ROOT / "sample" / "web-00002.parquet"
OUT = ROOT / "warc" / "sample.warc.gz"
DATE = "2024-06-01T12:00:00Z"
NS = uuid.UUID("6f1c0a52-9d1e-4c1a-8f0e-5a1d2c3b4e5f")

#: (what a sample document's url holds, language, charset of the page, whether the HTTP header names it)
PAGES = [
    ("https://debian-handbook.info/browse/en-US/", "en", "utf-8", True),
    ("https://www.debian.org/doc/manuals/debian-reference/ch0*.en.html", "en", "utf-8", True),
    ("https://debian-handbook.info/browse/zh-CN/", "zh", "gb18030", True),
    ("https://www.debian.org/doc/manuals/debian-reference/ch0*.zh-cn.html", "zh", "utf-8", False),
]
CHROME = {
    "en": {"nav": ["Home", "News", "Download", "Documentation", "About", "Contact"],
           "side": ["Related pages", "Getting started", "Frequently asked questions", "Mailing lists"],
           "foot": "Copyright © 2024 The Debian Project. All rights reserved. Privacy policy | Terms of use"},
    "zh": {"nav": ["首页", "新闻", "下载", "文档", "关于我们", "联系我们"],
           "side": ["相关页面", "入门指南", "常见问题", "邮件列表"],
           "foot": "版权所有 © 2024 Debian 项目。保留所有权利。隐私政策 | 使用条款"},
}  # fmt: skip
SPAM = "cheap-deals.example"


def pick_documents() -> list[dict]:
    """The first sample document (in id order) of each page's kind that is long, mostly sentences, prose."""
    rows = sorted(pq.read_table(SAMPLE, columns=["id", "text", "url", "source"]).to_pylist(), key=lambda r: r["id"])
    picked = []
    for pattern, _, _, _ in PAGES:
        for r in rows:
            paragraphs = r["text"].split("\n\n")
            prose = len(paragraphs) >= 4 and sum(p.rstrip().endswith((".", "。", "：", ":")) for p in paragraphs) >= 0.6 * len(paragraphs)
            if fnmatch.fnmatch(r["url"].split("#")[0], pattern + "*") and prose and len(r["text"]) >= 800 and r not in picked:
                picked.append(r)
                break
    return picked


def page(title: str, paragraphs: list[str], lang: str, charset: str) -> str:
    """A page with the chrome of a site around an article (none when there are no paragraphs)."""
    chrome = CHROME[lang]
    nav = "".join(f'<li><a href="/{i}">{html.escape(w)}</a></li>' for i, w in enumerate(chrome["nav"]))
    side = "".join(f'<li><a href="/see/{i}">{html.escape(w)}</a></li>' for i, w in enumerate(chrome["side"]))
    heading = paragraphs[0] if paragraphs and len(paragraphs[0]) <= 60 else None  # a heading in the source
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs[1 if heading else 0 :])
    article = f"<main><article>{f'<h1>{html.escape(heading)}</h1>' if heading else ''}\n{body}\n</article></main>\n"
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="{charset}"><title>{html.escape(title)}</title>'
        "<style>body{font-family:sans-serif}</style><script>var tracking = 'page-view';</script></head>\n"
        f'<body><header><div class="logo">Debian</div><nav class="menu"><ul>{nav}</ul></nav></header>\n'
        f'<aside class="sidebar"><ul>{side}</ul></aside>\n'
        f"{article if paragraphs else ''}"
        f'<footer class="footer"><p>{html.escape(chrome["foot"])}</p></footer></body></html>\n'
    )


def records(docs: list[dict]) -> list[tuple[str, str, bytes, str]]:
    """(WARC-Type, target URI, block, Content-Type) for every record, in file order."""
    out = [("warcinfo", "", b"software: curate data/build_warc.py\r\nformat: WARC File Format 1.1\r\n", "application/warc-fields")]
    http = "application/http; msgtype=response"
    for i, (doc, (_, lang, charset, in_header)) in enumerate(zip(docs, PAGES)):
        url = doc["url"].split("#")[0]
        paragraphs = doc["text"].split("\n\n")
        if i == 0:  # what web text brings along: mojibake, a special token, a zero-width space, an address
            paragraphs[-1] += " That isnâ€™t all. <|endoftext|> Questions: jane.doe@example.com\u200b"
        title = url.rstrip("/").rsplit("/", 1)[-1].removesuffix(".html").replace("sect.", "").replace("-", " ")
        body = page(title, paragraphs, lang, charset).encode(charset)
        ctype = f"text/html; charset={charset}" if in_header else "text/html"
        if i == 0:
            out.append(("request", url, f"GET /{url.split('/', 3)[3]} HTTP/1.1\r\nHost: {url.split('/')[2]}\r\n\r\n".encode(), "application/http; msgtype=request"))
        out.append(("response", url, _http(200, ctype, body), http))
        if i == 0:
            out.append(("metadata", url, b"fetchTimeMs: 112\r\n", "application/warc-fields"))
    spam_words = "cheap deals best price win now free download " * 12
    spam = page("Cheap deals", [spam_words.strip()] * 3, "en", "utf-8").encode()
    out.append(("response", f"http://{SPAM}/top-cheap-win-win-13822.html", _http(200, "text/html; charset=utf-8", spam), http))
    empty = page("Debian", [], "en", "utf-8").encode()  # chrome only: nothing for html_extract to keep
    out.append(("response", "https://www.debian.org/empty.html", _http(200, "text/html", empty), http))
    out.append(("response", "https://www.debian.org/robots.txt", _http(200, "text/plain", b"User-agent: *\nDisallow: /cgi-bin/\n"), http))
    png = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000")
    out.append(("response", "https://www.debian.org/logo.png", _http(200, "image/png", png), http))
    out.append(("response", "http://www.debian.org/", _http(301, "text/html", b"", "Location: https://www.debian.org/\r\n"), http))
    return out


def _http(status: int, ctype: str, body: bytes, extra: str = "") -> bytes:
    reason = {200: "OK", 301: "Moved Permanently"}[status]
    head = f"HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
    return head.encode("ascii") + body


def write(path: Path, recs: list[tuple[str, str, bytes, str]]) -> None:
    from fastwarc.stream_io import GzipWriter
    from fastwarc.warc import WarcRecord, WarcRecordType

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        for n, (kind, url, block, ctype) in enumerate(recs):
            record = WarcRecord()
            record.init_headers(getattr(WarcRecordType, kind), f"uuid:{uuid.uuid5(NS, f'{n}:{kind}:{url}')}".encode())
            record.headers["WARC-Date"] = DATE
            if url:
                record.headers["WARC-Target-URI"] = url
            record.headers["Content-Type"] = ctype
            record.set_bytes_content(block)
            member = GzipWriter(f)  # one gzip member per record, as crawlers write them
            record.write(member, checksum_data=True)
            member.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    docs = pick_documents()
    recs = records(docs)
    write(args.out, recs)
    print(f"{args.out}: {len(recs)} records, {args.out.stat().st_size:,} bytes; pages from " + ", ".join(d["id"] for d in docs))


if __name__ == "__main__":
    main()
