"""html_extract: main text out of real-looking pages, in English and Chinese, with resiliparse."""

from __future__ import annotations

import pyarrow as pa

from curate.engine.pipeline import run_in_memory
from curate.stages.html_extract import HtmlExtract, HtmlExtractParams


def page(lang: str, nav: list[str], title: str, paragraphs: list[str], footer: str) -> str:
    items = "".join(f'<li><a href="/{i}">{w}</a></li>' for i, w in enumerate(nav))
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f'<html lang="{lang}"><head><title>{title}</title><script>var x = "tracking";</script></head><body>'
        f'<header><nav class="menu"><ul>{items}</ul></nav></header><aside class="sidebar"><ul>{items}</ul></aside>'
        f"<main><article><h1>{title}</h1>{body}</article></main><footer><p>{footer}</p></footer></body></html>"
    )


EN = page(
    "en",
    ["Home", "Downloads", "Mailing lists"],
    "Managing packages",
    [
        "APT is the tool that installs, upgrades and removes packages on a Debian system, resolving dependencies for you.",
        "Before an upgrade, refresh the package lists with apt update and read what apt full-upgrade proposes to do.",
    ],
    "Copyright 2024 The Debian Project. Privacy policy",
)
ZH = page(
    "zh",
    ["首页", "下载", "邮件列表"],
    "软件包管理",
    [
        "APT 是在 Debian 系统上安装、升级和删除软件包的工具，它会自动为你解决依赖关系。",
        "在升级系统之前，请先用 apt update 更新软件包列表，并仔细阅读 apt full-upgrade 的提议。",
    ],
    "版权所有 © 2024 Debian 项目。隐私政策",
)
NAV_ONLY = page("en", ["Home", "Downloads"], "", [], "Copyright 2024").replace("<h1></h1>", "")


def run(table: pa.Table, **params) -> tuple[pa.Table, pa.Table | None]:
    return run_in_memory([("html_extract", HtmlExtract(HtmlExtractParams(**params)))], [table])


def table(pages: list[str | None], column: str = "html") -> pa.Table:
    n = len(pages)
    return pa.table({"id": [f"d{i}" for i in range(n)], "text": [p or "plain text" for p in pages], column: pages})


def test_english_and_chinese_pages_give_their_main_text_without_the_chrome() -> None:
    kept, rejected = run(table([EN, ZH]))
    en, zh = kept.column("text").to_pylist()
    assert en.startswith("Managing packages\n\nAPT is the tool that installs")
    assert "apt full-upgrade proposes to do." in en
    assert zh.startswith("软件包管理\n\nAPT 是在 Debian 系统上安装")
    assert "apt full-upgrade 的提议。" in zh
    for text, chrome in ((en, ["Home", "Downloads", "Mailing lists", "Copyright", "tracking"]), (zh, ["首页", "邮件列表", "版权所有"])):
        assert not any(word in text for word in chrome), text
    assert "html" not in kept.column_names and rejected is None


def test_a_page_with_only_chrome_is_dropped_as_no_text_and_keeps_its_html() -> None:
    kept, rejected = run(table([EN, NAV_ONLY]))
    assert kept.column("id").to_pylist() == ["d0"]
    assert rejected.column("drop_reason").to_pylist() == ["html_extract:no_text"]
    assert rejected.column("text").to_pylist() == [NAV_ONLY]


def test_documents_without_html_pass_through_so_plain_text_input_runs_the_same_recipe() -> None:
    kept, _ = run(table([EN, None]))
    assert kept.column("text").to_pylist()[1] == "plain text"
    plain = pa.table({"id": ["a"], "text": ["already text"]})
    kept, _ = run(plain)
    assert kept.column("text").to_pylist() == ["already text"]
    assert HtmlExtract().columns_needed() == ("text",)
    assert HtmlExtract(HtmlExtractParams(required=True)).columns_needed() == ("text", "html")


def test_another_column_and_keep_html() -> None:
    kept, _ = run(table([ZH], column="raw_page"), column="raw_page", keep_html=True)
    assert kept.column("raw_page").to_pylist() == [ZH]
    assert kept.column("text").to_pylist()[0].startswith("软件包管理")


def test_counters_say_what_happened() -> None:
    stage = HtmlExtract()
    stage.setup()
    verdict = stage.process(table([EN, NAV_ONLY, None]))
    assert verdict.counters == {"extracted": 1, "no_text": 1, "passed_through": 1}
