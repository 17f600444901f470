"""Helpers shared by the stage modules (not stages themselves, so the registry does not load them).

``columns`` (adding typed columns), ``device`` (torch device/threads for model stages), ``tdigest``
(mergeable quantile sketches), ``text_stats`` (vectorised word/line statistics), ``lang_presets``
(per-language filter thresholds), ``minhash`` (signatures, LSH, star contraction), and the parallel reduce
steps of the global stages: ``minhash_clusters`` (with ``minhash_columns``, signatures and ids read by
document), ``paragraph_counts``, ``exact_duplicates`` (exact dedup)
and ``exact_quantiles`` (percentile buckets).
"""
