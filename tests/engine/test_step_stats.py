"""Drop-reason statistics stay bounded: per-document details fold into kinds past DISTINCT_REASONS, and the
totals do not depend on how the reasons were split into units or in which order units were added."""

from __future__ import annotations

import itertools

from curate.engine.pipeline import DISTINCT_REASONS, StepStats


def _unit_stats(reasons: list[str]) -> StepStats:
    stats = StepStats(dropped=len(reasons))
    stats.count_reasons(reasons)
    return StepStats.from_json(stats.to_json())  # as the driver reads a committed unit


def _merged(units: list[list[str]]) -> dict[str, int]:
    total = StepStats()
    for unit in units:
        total.add(_unit_stats(unit))
    return dict(total.reasons)


def test_few_distinct_reasons_are_counted_one_by_one() -> None:
    units = [["url_filter:blocked_domain=a.example", "url_filter:blocked_domain=b.example"], ["url_filter:blocked_domain=a.example", "url_filter:adult"]]
    assert _merged(units) == {"url_filter:blocked_domain=a.example": 2, "url_filter:blocked_domain=b.example": 1, "url_filter:adult": 1}


def test_a_detail_per_document_folds_into_its_kind_whatever_the_split_and_order() -> None:
    n = 3 * DISTINCT_REASONS
    reasons = [f"exact_dedup:dup_of=doc-{i % (n - 7)}" for i in range(n)] + ["exact_dedup:other"] * 5
    expected = {"exact_dedup:dup_of=*": n, "exact_dedup:other": 5}
    one_unit = [reasons]
    small_units = [reasons[i : i + 40] for i in range(0, len(reasons), 40)]  # no unit folds on its own
    mixed = [reasons[: 2 * DISTINCT_REASONS], *[reasons[i : i + 40] for i in range(2 * DISTINCT_REASONS, len(reasons), 40)]]
    for units in (one_unit, small_units, mixed, mixed[::-1], small_units[::-1]):
        assert _merged(units) == expected
    assert _unit_stats(reasons[: 2 * DISTINCT_REASONS]).to_json()["reasons"] == {"exact_dedup:dup_of=*": 2 * DISTINCT_REASONS}


def test_the_fold_keeps_every_count() -> None:
    units = [[f"minhash_dedup:dup_of=d{u}-{i}" for i in range(300)] + ["minhash_dedup:empty"] for u in range(5)]
    for order in itertools.permutations(range(5), 2):
        merged = _merged([units[i] for i in order] + [u for i, u in enumerate(units) if i not in order])
        assert merged == {"minhash_dedup:dup_of=*": 1500, "minhash_dedup:empty": 5}
