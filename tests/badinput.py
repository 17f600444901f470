"""A corpus of bad input, one case per file, for the reliability tests.

Each case says what a run must do with it: refuse before work naming the file (``refuse``), or run and put
the bad records in rejected/ with a reason naming the file and line/row (``reject`` with the expected
count), or run and keep every record (``keep``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

GOOD = "A plain paragraph about data curation that is long enough to pass every length rule in the sample recipe. " * 3


@dataclass(frozen=True)
class Case:
    name: str
    outcome: str  # refuse | reject | keep
    records: int  # records in the file (what read must account for)
    bad: int = 0  # records that must land in rejected/ at the read step


def _jsonl(path: Path, lines: list[bytes]) -> None:
    path.write_bytes(b"".join(line + b"\n" for line in lines))


def _rec(i: int, text: object = GOOD, **extra) -> bytes:
    return json.dumps({"id": f"r{i}", "text": text, **extra}, ensure_ascii=False).encode()


def make_bad_corpus(root: Path) -> dict[str, Case]:
    """Write every case under ``root`` (one file each) and return them by file name."""
    root.mkdir(parents=True, exist_ok=True)
    cases: dict[str, Case] = {}

    good = pa.table({"id": [f"p{i}" for i in range(20)], "text": [GOOD] * 20})
    pq.write_table(good, root / "whole.parquet")
    (root / "truncated.parquet").write_bytes((root / "whole.parquet").read_bytes()[:300])
    (root / "whole.parquet").unlink()
    cases["truncated.parquet"] = Case("truncated Parquet", "refuse", 20)

    pq.write_table(pa.table({"id": ["a"], "body": [GOOD]}), root / "wrong-schema.parquet")
    cases["wrong-schema.parquet"] = Case("Parquet without a text column", "refuse", 1)

    pq.write_table(pa.table({"id": ["a", "b"], "text": [1, 2]}), root / "int-text.parquet")
    cases["int-text.parquet"] = Case("Parquet with an int text column", "reject", 2, bad=2)

    _jsonl(root / "broken-lines.jsonl", [_rec(0), b'{"id": "r1", "text": "cut', _rec(2), b"not json at all", _rec(4)])
    cases["broken-lines.jsonl"] = Case("JSONL with broken lines", "reject", 5, bad=2)

    _jsonl(root / "bad-utf8.jsonl", [_rec(0), b'{"id": "r1", "text": "caf\xe9 ' + GOOD.encode() + b'"}', _rec(2)])
    cases["bad-utf8.jsonl"] = Case("invalid UTF-8", "reject", 3, bad=1)

    _jsonl(root / "mixed-encodings.jsonl", [_rec(0), json.dumps({"id": "r1", "text": "Grüße " + GOOD}).encode("utf-8").replace(b"\\u00fc", b"\xfc"), _rec(2, "naïve " + GOOD)])
    cases["mixed-encodings.jsonl"] = Case("a Latin-1 line among UTF-8 lines", "reject", 3, bad=1)

    _jsonl(root / "empty-texts.jsonl", [_rec(0), _rec(1, ""), _rec(2, "   \n\t "), _rec(3, None)])
    cases["empty-texts.jsonl"] = Case("empty and null texts", "reject", 4, bad=3)

    _jsonl(root / "huge-doc.jsonl", [_rec(0), _rec(1, ("A very long document. " * 500_000)[:10_000_000])])
    cases["huge-doc.jsonl"] = Case("a 10 MB document", "keep", 2)

    _jsonl(root / "nul-bytes.jsonl", [_rec(0, "Text with a NUL \x00 byte inside. " + GOOD), _rec(1)])
    cases["nul-bytes.jsonl"] = Case("NUL bytes inside text", "keep", 2)

    _jsonl(root / "duplicate-ids.jsonl", [_rec(0), _rec(1, "Another " + GOOD), _rec(0, "A third " + GOOD)])
    cases["duplicate-ids.jsonl"] = Case("duplicate ids", "reject", 3, bad=1)
    return cases
