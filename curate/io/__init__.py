"""Input and output: finding input files, planning work units, reading shards, writing shards atomically.

Owns: ``readers`` (Parquet, JSONL[.gz|.zst]; work units; bad records → rejected with reasons), ``jsonl``
(byte-range units of plain JSONL, streamed line parsing), ``warc`` (WARC records as documents),
``shards`` (atomic Parquet/JSON writes), ``files`` (finding Parquet files of a run output or glob), ``probe`` (input schemas from a Parquet
footer or a JSONL sample).
May import: :mod:`curate.core`.
"""
