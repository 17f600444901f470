"""url_filter: datatrove URLFilter's decisions on its own test cases, and ours on lists, allowlists, files."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from curate.engine.pipeline import run_in_memory
from curate.stages.url_filter import UrlFilter, UrlFilterParams

# datatrove tests/pipeline/filters/test_filters.py::test_url, with its extra_domains
DT_DOMAINS = ["blocked.com", "danger.org", "badsubdomain.nice.com"]
DT_CASES = [
    ("https://blocked.com/some-sub-url?with=stuff", "domain"),
    ("https://hey.danger.org/some-sub-url?with=stuff", "domain"),
    ("http://hey.danger.org/some-sub-url?with=stuff", "domain"),
    ("http://www.danger.org/some-sub-url?with=stuff", "domain"),
    ("https://nice.com/some-sub-url?with=stuff", None),
    ("https://badsubdomain.nice.com/some-sub-url?with=stuff", "subdomain"),
    ("https://sdsd.badsubdomain.nice.com/some-sub-url?with=stuff", None),
    ("https://blocke.dcom/some-sub-url?with=stuff", None),
]
def decide(urls: list[str | None], **params) -> list[str | None]:
    stage = UrlFilter(UrlFilterParams(**params))
    stage.setup()
    n = len(urls)
    keep, reasons = stage.keep(pa.table({"id": [str(i) for i in range(n)], "text": ["x"] * n, "url": urls}))
    reasons = reasons.to_pylist()
    assert [r is None for r in reasons] == list(keep)
    return reasons


def test_datatrove_url_filter_test_cases() -> None:
    reasons = decide([u for u, _ in DT_CASES], blocked_domains=DT_DOMAINS)
    expected = {
        "domain": lambda u: "blocked_domain=" + ("blocked.com" if "blocked.com" in u else "danger.org"),
        "subdomain": lambda u: "blocked_subdomain=badsubdomain.nice.com",
        None: lambda u: None,
    }
    assert reasons == [expected[result](url) for url, result in DT_CASES]


WORD_URLS = [
    "https://example.com/casino-bonus",
    "https://example.com/casinos",
    "https://example.com/best/cheap/pills",
    "https://example.com/cheap-flights",
    "https://example.com/x/bad-stuff-here",
    "https://badstuff.example.com/",
    "https://example.com/a.html?q=fine",
    "https://www.danger.org/casino",
]


@pytest.mark.filterwarnings("ignore:The 'registered_domain' property is deprecated")
def test_same_decisions_as_datatrove_url_filter_on_words_and_substrings(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("ahocorasick")
    from datatrove.data import Document
    from datatrove.pipeline.filters.url_filter import URLFilter

    monkeypatch.setenv("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")  # the shipped suffix list, no network
    lists = {"banned_words": ["casino"], "soft_banned_words": ["cheap", "pills"], "banned_subwords": ["badstuff"]}
    theirs = URLFilter(extra_domains=DT_DOMAINS, use_integrated_lists=False, **lists)
    urls = [u for u, _ in DT_CASES] + WORD_URLS
    ours = decide(urls, blocked_domains=DT_DOMAINS, banned_words=lists["banned_words"],
                  soft_banned_words=lists["soft_banned_words"], banned_substrings=lists["banned_subwords"])  # fmt: skip
    rule = {"blocked_domain": "domain", "blocked_subdomain": "subdomain", "banned_word": "hard_blacklisted",
            "soft_banned_words": "soft_blacklisted", "banned_substring": "blacklisted_subword"}  # fmt: skip
    for url, reason in zip(urls, ours):
        verdict = theirs.filter(Document(text="x", id="0", metadata={"url": url}))
        assert (verdict if verdict is True else verdict[1]) == (True if reason is None else rule[reason.split("=")[0]]), url


def test_reasons_name_the_rule_and_what_matched() -> None:
    reasons = decide(
        WORD_URLS + ["https://Example.com/CASINO"],
        banned_words=["casino"], soft_banned_words=["cheap", "pills"], banned_substrings=["bad-stuff"],
    )  # fmt: skip
    assert reasons == [
        "banned_word=casino", None, "soft_banned_words=cheap+pills", None, "banned_substring=badstuff",
        "banned_substring=badstuff", None, "banned_word=casino",
        "banned_word=casino",  # hosts and words are lower-cased (datatrove matches case-sensitively)
    ]  # fmt: skip


def test_lists_from_files_with_comments_and_allowlists_win(tmp_path: Path) -> None:
    blocked = tmp_path / "blocked.txt"
    blocked.write_text("# spam hosts\nspam.example\n\nDanger.org\n")
    allowed = tmp_path / "allowed.txt"
    allowed.write_text("# keep whatever else matches\ngood.danger.org\n")
    urls = ["http://spam.example/", "http://a.spam.example/x", "https://x.danger.org/", "https://good.danger.org/casino",
            "https://deep.good.danger.org/", "https://spam.examples.net/"]  # fmt: skip
    reasons = decide(urls, blocked_domain_files=[str(blocked)], allowed_domain_files=[str(allowed)], banned_words=["casino"])
    assert reasons == ["blocked_domain=spam.example", "blocked_domain=spam.example", "blocked_domain=danger.org", None, None, None]


def test_documents_without_a_url_are_kept_unless_asked() -> None:
    urls = [None, "", "https://fine.org/"]
    assert decide(urls, blocked_domains=["x.org"]) == [None, None, None]
    assert decide(urls, missing_url="drop") == ["no_url", "no_url", None]
    stage = UrlFilter(UrlFilterParams(missing_url="drop"))
    kept, rejected = run_in_memory([("url_filter", stage)], [pa.table({"id": ["a"], "text": ["no url column at all"]})])
    assert kept.num_rows == 0 and rejected.column("drop_reason").to_pylist() == ["url_filter:no_url"]


def test_blocked_exact_urls_and_datatrove_word_lists() -> None:
    reasons = decide(["https://a.org/page", "https://a.org/page2", "https://a.org/porn-videos"],
                     blocked_urls=["https://a.org/page"], datatrove_lists=True)  # fmt: skip
    assert reasons == ["blocked_url", None, "banned_word=porn"]
