"""``domain_tag``: give every document a ``domain`` and a ``domain_score``.

Two ways, usable together:

* a fastText domain classifier (trained with ``curate train-classifier`` from labelled text) writes its best
  label and that label's probability;
* a URL host rule table (``{"wikipedia.org": "encyclopedia", "arxiv.org": "science"}``) is the cheap
  alternative: the longest matching host suffix wins, with score 1.0.

With both, a matching rule overrides the model. Documents no rule matches (and no model scores above
``min_score``) get ``default``. Per-domain statistics downstream (``loss_buckets``) group by ``domain``.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field, model_validator

from curate.core.registry import register
from curate.core.schema import TEXT
from curate.core.stage import Params, Resources, TransformStage
from curate.stages.lib.columns import set_column

DOMAIN = "domain"
DOMAIN_SCORE = "domain_score"
_HOST = r"^(?:[A-Za-z][A-Za-z0-9+.\-]*:)?//(?:[^@/?#]*@)?(?P<host>[^:/?#]*)"


class DomainTagParams(Params):
    model: str | None = Field(None, description="Path of a fastText domain classifier; its labels are the domains.")
    rules: dict[str, str] | None = Field(
        None, description="URL host suffix -> domain (`bbc.co.uk: news`); the longest matching suffix wins."
    )
    url_column: str = Field("url", description="Column holding each document's URL (read only with `rules`).")
    default: str = Field("other", description="Domain of documents no rule matches and the model is unsure of.")
    min_score: float = Field(
        0.0, ge=0.0, le=1.0, description="Model labels below this probability become `default` (score kept)."
    )
    max_chars: int | None = Field(None, ge=1, description="Classify only the first this many characters (None: all).")

    @model_validator(mode="after")
    def _one_source(self) -> "DomainTagParams":
        if self.model is None and not self.rules:
            raise ValueError("give `model` (a fastText domain classifier), `rules` (host suffix -> domain), or both")
        return self


def host_of(url: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Lower-cased host of each URL without a leading ``www.`` (null where there is no URL)."""
    host = pc.struct_field(pc.extract_regex(url, _HOST), [0])
    return pc.replace_substring_regex(pc.utf8_lower(host), r"^www\.", "")


def match_hosts(hosts: pa.Array | pa.ChunkedArray, rules: dict[str, str]) -> pa.Array:
    """The rule's domain for each host (longest matching suffix), null where none matches."""
    table = {k.lower().removeprefix("www.").strip("."): v for k, v in rules.items()}
    encoded = pc.dictionary_encode(hosts)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    # per-unique-host Python path: suffix lookups over distinct hosts only, not per document
    found = []
    for host in encoded.dictionary.to_pylist():
        labels = host.split(".")
        found.append(next((table[".".join(labels[i:])] for i in range(len(labels)) if ".".join(labels[i:]) in table), None))
    return pc.take(pa.array(found, pa.string()), encoded.indices)


@register
class DomainTag(TransformStage):
    name = "domain_tag"
    Params = DomainTagParams
    adds = {DOMAIN: pa.string(), DOMAIN_SCORE: pa.float32()}
    default_resources = Resources(cpus=1.0, batch_size=8192)

    def columns_needed(self) -> tuple[str, ...]:
        # rules alone need the URL; next to a model they refine it where a URL exists
        return (TEXT,) + ((self.params.url_column,) if self.params.rules and not self.params.model else ())

    def setup(self) -> None:
        self._model = None
        if self.params.model is not None:
            from curate.scorers.fasttext_classifier import FastTextClassifier

            self._model = FastTextClassifier(self.params.model)

    def transform(self, batch: pa.Table) -> pa.Table:
        n = batch.num_rows
        domain = np.full(n, self.params.default, dtype=object)
        score = np.zeros(n, dtype=np.float32)
        if self._model is not None:
            label, prob = self._model.top_label(batch.column(TEXT), self.params.max_chars)
            sure = prob >= self.params.min_score
            domain[sure] = label[sure]
            score[:] = prob
        if self.params.rules and (self._model is None or self.params.url_column in batch.column_names):
            if self.params.url_column not in batch.column_names:
                raise KeyError(
                    f"domain_tag: rules need the URL column {self.params.url_column!r}, which the input lacks; "
                    f"columns are {batch.column_names} — set `url_column` or drop `rules`"
                )
            ruled = match_hosts(host_of(batch.column(self.params.url_column)), self.params.rules)
            hit = pc.is_valid(ruled).to_numpy(zero_copy_only=False)
            domain[hit] = np.asarray(ruled.to_pylist(), dtype=object)[hit]
            score[hit] = 1.0
        out = set_column(batch, DOMAIN, pa.array(domain, pa.string()))
        return set_column(out, DOMAIN_SCORE, pa.array(score, pa.float32()))
