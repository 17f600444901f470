"""``url_filter``: drop documents by their URL — blocked domains, banned words and substrings, allowlists.

The rules and their order are datatrove's ``URLFilter``: a listed domain blocks its registered domain
(``hey.danger.org`` by ``danger.org``), a listed host blocks that exact host (``badsubdomain.nice.com``, not
``x.badsubdomain.nice.com``), then listed URLs, banned words (whole words of the URL split on
non-alphanumerics), ``soft_threshold`` or more distinct soft-banned words, banned substrings (of the URL
with everything but letters and digits removed, so ``bad-word`` finds ``badword``). Registered domains come
from the Public Suffix List that tldextract ships (never fetched at run time). Two differences, both
deliberate: hosts and URL words are lower-cased before matching (datatrove matches ``BadWord`` in a URL
case-sensitively), and a host without a known public suffix (``cheap-deals.example``, intranet names) is
matched as if its last label were one (datatrove never blocks those). An allowlisted domain (or any host
under it) is kept whatever else matches.

Reasons name the rule and what matched: ``blocked_domain=example.com``, ``blocked_subdomain=a.example.com``,
``blocked_url``, ``banned_word=casino``, ``soft_banned_words=cheap+pills``, ``banned_substring=xxx``,
``no_url``. Lists come inline or from files (one entry per line, ``#`` comments); ``datatrove_lists`` adds the
word lists datatrove ships. Hosts are extracted with an Arrow regex and looked up once per distinct host;
everything else is Arrow kernels. Memory: one batch plus the lists.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from curate.core.registry import register
from curate.core.stage import FilterStage, Params

HOST = r"^(?:[a-zA-Z][a-zA-Z0-9+.\-]*:)?(?://)?(?:[^@/?#]*@)?(?P<host>\[[^\]]*\]|[^:/?#]*)"


class UrlFilterParams(Params):
    column: str = Field("url", description="Column holding the document's URL.")
    missing_url: Literal["keep", "drop"] = Field("keep", description="Documents without a URL: keep, or drop as no_url.")
    blocked_domains: list[str] = Field([], description="Domains or hosts to block (datatrove's domain / subdomain rules).")
    blocked_domain_files: list[str] = Field([], description="Files of domains to block, one per line, # comments.")
    allowed_domains: list[str] = Field([], description="Domains kept whatever else matches, with every host under them.")
    allowed_domain_files: list[str] = Field([], description="Files of allowed domains, one per line, # comments.")
    blocked_urls: list[str] = Field([], description="Exact URLs to block.")
    blocked_url_files: list[str] = Field([], description="Files of exact URLs to block, one per line.")
    banned_words: list[str] = Field([], description="Words that block a URL when one is a whole word of it.")
    banned_word_files: list[str] = Field([], description="Files of banned words, one per line.")
    soft_banned_words: list[str] = Field([], description="Words that block a URL when soft_threshold of them are in it.")
    soft_threshold: int = Field(2, ge=1, description="Distinct soft-banned words a URL needs to be blocked.")
    banned_substrings: list[str] = Field([], description="Substrings that block a URL (matched letters and digits only).")
    banned_substring_files: list[str] = Field([], description="Files of banned substrings, one per line.")
    datatrove_lists: bool = Field(False, description="Add the banned / soft-banned words and substrings datatrove ships.")


def _read_lines(paths: list[str]) -> list[str]:
    out = []
    for path in paths:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                out.append(line)
    return out


def _alnum(words: list[str]) -> list[str]:
    """datatrove's normalisation of list words: letters and digits only, lower case."""
    return sorted({w for w in (re.sub(r"[^a-zA-Z0-9]+", "", x).lower() for x in words) if w})


@register
class UrlFilter(FilterStage):
    name = "url_filter"
    Params = UrlFilterParams
    needs = ()

    def setup(self) -> None:
        import tldextract

        p = self.params
        words, soft, subs = list(p.banned_words), list(p.soft_banned_words), list(p.banned_substrings)
        if p.datatrove_lists:
            from datatrove.utils._import_utils import ASSETS_PATH

            words += _read_lines([f"{ASSETS_PATH}/banned_words.txt"])
            soft += _read_lines([f"{ASSETS_PATH}/soft_banned_words.txt"])
            subs += _read_lines([f"{ASSETS_PATH}/banned_subwords.txt"])
        self._blocked = {d.lower().rstrip(".") for d in p.blocked_domains + _read_lines(p.blocked_domain_files)}
        self._allowed = {d.lower().rstrip(".") for d in p.allowed_domains + _read_lines(p.allowed_domain_files)}
        self._urls = pa.array(sorted(set(p.blocked_urls + _read_lines(p.blocked_url_files))), pa.string())
        self._words = pa.array(_alnum(words + _read_lines(p.banned_word_files)), pa.string())
        self._soft = pa.array(_alnum(soft), pa.string())
        found = _alnum(subs + _read_lines(p.banned_substring_files))
        self._subs = "|".join(found) if found else None
        # the snapshot of the Public Suffix List shipped with tldextract; nothing is fetched or cached
        self._tld = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

    def keep(self, batch: pa.Table) -> tuple[np.ndarray, pa.Array]:
        p, n = self.params, batch.num_rows
        url = batch.column(p.column).combine_chunks() if p.column in batch.column_names and n else pa.nulls(n, pa.string())
        missing = pc.fill_null(pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(url)), 0), True)
        url = pc.if_else(missing, "", url)
        host = pc.ascii_lower(pc.utf8_rtrim(pc.struct_field(pc.extract_regex(url, HOST), "host"), "."))
        distinct = pc.unique(host)
        where = pc.index_in(host, distinct)
        rules = [pc.if_else(missing, "no_url", pa.scalar(None, pa.string()))] if p.missing_url == "drop" else []
        rules.append(pc.take(self._host_verdicts(distinct.to_pylist()), where))
        if len(self._urls):
            rules.append(pc.if_else(pc.is_in(url, self._urls), "blocked_url", pa.scalar(None, pa.string())))
        words = pc.split_pattern_regex(pc.ascii_lower(url), r"[^a-z0-9]+")
        flat, parent = pc.list_flatten(words), pc.list_parent_indices(words).to_numpy(zero_copy_only=False)
        if len(self._words):
            hit = pc.is_in(flat, self._words).to_numpy(zero_copy_only=False)
            docs, first = np.unique(parent[hit], return_index=True)  # each URL's first banned word
            rules.append(_scatter(n, docs, pc.binary_join_element_wise("banned_word=", flat.filter(hit).take(first), "")))
        if len(self._soft):
            rules.append(self._soft_rule(n, flat, parent))
        if self._subs:
            squashed = pc.ascii_lower(pc.replace_substring_regex(url, r"[^a-zA-Z0-9]+", ""))
            match = pc.struct_field(pc.extract_regex(squashed, f"(?P<m>{self._subs})"), "m")
            rules.append(pc.binary_join_element_wise("banned_substring=", match, ""))
        reasons = pc.coalesce(*rules) if len(rules) > 1 else rules[0]
        allowed = pc.take(self._allowed_hosts(distinct.to_pylist()), where)
        reasons = pc.if_else(pc.and_(allowed, pc.invert(missing)), pa.scalar(None, pa.string()), reasons)
        return pc.is_null(reasons).to_numpy(zero_copy_only=False), reasons

    def _host_verdicts(self, hosts: list[str | None]) -> pa.Array:
        """Datatrove's domain then subdomain rule, once per distinct host (the suffix list lookup is Python)."""
        out: list[str | None] = []
        for h in hosts:
            if not (h and self._blocked):
                out.append(None)
                continue
            info = self._tld(h)
            # no known public suffix (`.example`, intranet names): the last label stands in for one
            registered = info.top_domain_under_public_suffix or ".".join(h.split(".")[-2:])
            fqdn = info.fqdn or h
            if registered in self._blocked:
                out.append(f"blocked_domain={registered}")
            elif fqdn in self._blocked:
                out.append(f"blocked_subdomain={fqdn}")
            else:
                out.append(None)
        return pa.array(out, pa.string())

    def _allowed_hosts(self, hosts: list[str | None]) -> pa.Array:
        """Whether each distinct host is an allowed domain or under one (per distinct host)."""
        parts = [(h or "").split(".") for h in hosts]
        return pa.array([any(".".join(p[i:]) in self._allowed for i in range(len(p))) for p in parts], pa.bool_())

    def _soft_rule(self, n: int, flat: pa.Array, parent: np.ndarray) -> pa.Array:
        import polars as pl

        hit = pc.is_in(flat, self._soft).to_numpy(zero_copy_only=False)
        pairs = pl.DataFrame({"doc": parent[hit], "word": pl.Series(flat.filter(hit))}).unique()
        per_doc = pairs.group_by("doc").agg(pl.col("word").sort().str.join("+"), pl.len().alias("n"))
        per_doc = per_doc.filter(pl.col("n") >= self.params.soft_threshold)
        found = pc.binary_join_element_wise("soft_banned_words=", per_doc["word"].to_arrow().cast(pa.string()), "")
        return _scatter(n, per_doc["doc"].to_numpy(), found)


def _scatter(n: int, rows: np.ndarray, values: pa.Array) -> pa.Array:
    """A string array of length n: ``values`` at ``rows``, null elsewhere."""
    out = np.full(n, -1, dtype=np.int64)
    out[np.asarray(rows, dtype=np.int64)] = np.arange(len(rows))
    index = pa.array(out, mask=out < 0)
    values = values.cast(pa.string())
    return pc.take(values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values, index)
