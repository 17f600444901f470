"""The shipped sample corpus (data/sample): read with plain gzip / zstandard / pyarrow, not curate's readers.

Why: the demo recipe, the reader tests and the benchmarks lean on this corpus; these checks catch a
rebuild that lost a language, a shard, the junk, the duplicates or the malformed lines the demo shows.
"""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import zstandard

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
SHARDS = ["web-00000.jsonl.gz", "web-00001.jsonl.zst", "web-00002.parquet"]
COLUMNS = {"id", "text", "url", "source"}
CJK = re.compile(r"[\u3400-\u9fff]")


def _jsonl_lines(path: Path) -> list[bytes]:
    data = path.read_bytes()
    raw = gzip.decompress(data) if path.name.endswith(".gz") else zstandard.ZstdDecompressor().decompress(data)
    return [line for line in raw.split(b"\n") if line]


def _parse(line: bytes) -> dict | None:
    """A well-formed record (a JSON object whose text is a string), else None."""
    try:
        obj = json.loads(line)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) and isinstance(obj.get("text"), str) else None


@pytest.fixture(scope="module")
def shards() -> dict[str, list[dict]]:
    """Well-formed records per shard."""
    out = {}
    for name in SHARDS:
        path = SAMPLE / name
        if name.endswith(".parquet"):
            out[name] = pq.read_table(path).to_pylist()
        else:
            out[name] = [r for r in map(_parse, _jsonl_lines(path)) if r is not None]
    return out


@pytest.fixture(scope="module")
def docs(shards: dict[str, list[dict]]) -> list[dict]:
    return [r for rows in shards.values() for r in rows]


def test_three_shards_one_per_reader_and_small_on_disk() -> None:
    sizes = {name: (SAMPLE / name).stat().st_size for name in SHARDS}
    assert all(size > 100_000 for size in sizes.values()), sizes
    assert sum(sizes.values()) <= 10 * 1024 * 1024, f"data/sample is {sum(sizes.values())} bytes; keep it under 10 MB"
    assert not (set(p.name for p in SAMPLE.glob("web-*")) - set(SHARDS)), "unexpected shard in data/sample"


def test_enough_documents_split_evenly_across_shards(shards: dict[str, list[dict]], docs: list[dict]) -> None:
    assert len(docs) >= 2000
    counts = [len(rows) for rows in shards.values()]
    assert max(counts) - min(counts) <= 0.1 * max(counts), counts


def test_every_record_has_the_same_string_columns(shards: dict[str, list[dict]]) -> None:
    for name, rows in shards.items():
        for row in rows:
            assert set(row) == COLUMNS, f"{name}: {row.get('id')} has columns {sorted(row)}"
            assert all(isinstance(row[c], str) for c in COLUMNS), f"{name}: {row['id']} has a non-string column"
    schema = pq.read_schema(SAMPLE / "web-00002.parquet")
    assert set(schema.names) == COLUMNS and all(str(t) == "string" for t in schema.types)


def test_ids_unique_among_well_formed_records(docs: list[dict]) -> None:
    repeated = [i for i, n in Counter(d["id"] for d in docs).items() if n > 1]
    assert not repeated, f"ids used twice: {repeated[:5]}"


def test_english_and_chinese_both_present(docs: list[dict]) -> None:
    chinese = [d for d in docs if len(CJK.findall(d["text"])) >= 50]
    english = [d for d in docs if not CJK.search(d["text"]) and len(re.findall(r"\b(the|and|of)\b", d["text"])) >= 5]
    assert len(chinese) >= 0.2 * len(docs), len(chinese)
    assert len(english) >= 0.3 * len(docs), len(english)


def test_other_languages_present(docs: list[dict]) -> None:
    cyrillic = sum(len(re.findall(r"[\u0400-\u04ff]", d["text"])) >= 100 for d in docs)
    german = sum(len(re.findall(r"\b(der|die|und|nicht)\b", d["text"])) >= 5 for d in docs)
    assert cyrillic >= 100 and german >= 100, (cyrillic, german)


def test_junk_and_duplicates_are_mixed_in(docs: list[dict]) -> None:
    texts = Counter(d["text"] for d in docs)
    assert sum(n - 1 for n in texts.values()) >= 0.02 * len(docs), "too few exact duplicates"
    assert sum(len(d["text"]) < 50 for d in docs) >= 10, "no tiny documents"
    assert sum(d["url"].startswith("http://") and ".example/" in d["url"] for d in docs) >= 0.05 * len(docs)
    assert any(re.search(r"(Home|首页|Startseite|Главная) \|", d["text"]) for d in docs), "no navigation boilerplate"


def test_malformed_lines_sit_in_the_gzip_shard() -> None:
    lines = _jsonl_lines(SAMPLE / "web-00000.jsonl.gz")
    bad = [line for line in lines if _parse(line) is None]
    assert 2 <= len(bad) <= 3, bad
    assert any(line.startswith(b"{") and _is_json(line) for line in bad), "no record whose text is not a string"
    assert any(not _is_json(line) for line in bad), "no line that is not JSON"
    assert all(_parse(line) is not None for line in _jsonl_lines(SAMPLE / "web-00001.jsonl.zst"))


def _is_json(line: bytes) -> bool:
    try:
        json.loads(line)
    except ValueError:
        return False
    return True
