"""pii_redact: what is PII is replaced, what only looks like it is not, and the shipped sample has no false hit."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pytest

from curate.stages.pii_redact import PiiRedact, PiiRedactParams

ROOT = Path(__file__).resolve().parents[2]

TRUE = [
    ("Mail jane.doe@example.com now.", "Mail <EMAIL> now."),
    ("server at 93.184.216.34 today", "server at <IP> today"),
    ("resolver 82.50.72.202:53", "resolver <IP>:53"),
    ("v6 2a00:1450:4001:81c::200e here", "v6 <IP> here"),
    ("call +49 30 1234567.", "call <PHONE>."),
    ("call +1 (555) 123-4567", "call <PHONE>"),
    ("call 555-123-4567 or (555) 123-4567", "call <PHONE> or <PHONE>"),
    ("toll free 1-800-555-0199", "toll free <PHONE>"),
    ("电话13812345678", "电话<PHONE>"),
    ("电话：010-12345678", "电话：<PHONE>"),
    ("手机 138-1234-5678。", "手机 <PHONE>。"),
    ("Tel. 030/1234567", "Tel. <PHONE>"),
    ("198.41.0.4 and 213.244.11.247", "<IP> and <IP>"),
]
FALSE = [
    "v1.2.3", "Python 3.11.7", "version 1.2.3.4", "Version: 10.0.19041.1", "x = 1234567", "1.2.3.4.5",
    "2024-01-15", "12/05/2023", "10:30:00", "a 12:34:56:78 b", "1999-2005", "ISBN 0-306-40615-2",
    "ISBN-13: 978-3-16-148410-0", "127.0.0.1", "192.168.1.1", "10.0.0.8", "224.0.0.251", "FF02::FB",
    "2001:db8::1", "udp6 0 0 ::1:123", "std::vector<int>", "add::dead", "12.3.2.1. Configuring the network",
    "in 2023 some 150 000 people", "call me at 12345", "ls -l 1234 5678", "RFC 2616 section 14.9",
    "price 1,299.00", "0.0.0.0", "doi 10.1000/182", "0x1234", "0123456789", "fields like +000000120",
]  # fmt: skip


def redact(texts: list[str], **params) -> tuple[list[str], dict]:
    stage = PiiRedact(PiiRedactParams(**params))
    stage.setup()
    verdict = stage.process(pa.table({"id": [str(i) for i in range(len(texts))], "text": texts}))
    assert verdict.keep is None
    return verdict.table.column("text").to_pylist(), verdict.counters


def test_true_cases_are_replaced() -> None:
    out, counters = redact([t for t, _ in TRUE])
    assert out == [r for _, r in TRUE]
    assert counters == {"email": 1, "ip": 5, "phone": 9}


@pytest.mark.parametrize("text", FALSE)
def test_false_cases_are_left_alone(text: str) -> None:
    assert redact([text]) == ([text], {"email": 0, "ip": 0, "phone": 0})


def test_placeholders_kinds_and_private_ips_are_configurable() -> None:
    out, counters = redact(["a@b.org at 192.168.1.1, 555-123-4567"], kinds=["email", "ip"], email="[mail]", ip="[ip]", public_ips_only=False)
    assert out == ["[mail] at [ip], 555-123-4567"] and counters == {"email": 1, "ip": 1}


def found_in(originals: list[str], redacted: list[str], marker: str) -> list[str]:
    """The strings each marker replaced, read back by aligning the output with the input."""
    found = []
    for before, after in zip(originals, redacted):
        if before != after:
            pattern = re.escape(after).replace(re.escape(marker), "(.+?)")
            found += re.fullmatch(pattern, before, re.DOTALL).groups()
    return found


def test_the_shipped_sample_has_no_false_hit() -> None:
    """Every IP and phone number the sample holds, reviewed by hand: all are real addresses or numbers."""
    from curate.io.readers import ColumnMap, find_inputs, plan_units, read_unit

    units = plan_units(find_inputs([str(ROOT / "data" / "sample")]), ColumnMap())
    texts = pa.concat_tables([read_unit(u, ColumnMap())[0].select(["text"]) for u in units]).column("text").to_pylist()
    ips, counters = redact(texts, kinds=["ip"], ip="\x00")
    assert sorted(set(found_in(texts, ips, "\x00"))) == [
        "123.234.123.89", "130.89.148.77", "193.23.158.13", "195.20.105.149", "200.58.141.84", "2001:0bc8:31a0::",
        "2001:67c:2564:a119::77", "2001:db00::0", "212.94.201.10", "212.94.201.11", "213.244.11.247",
        "2606:2800:220:1:248:1893:25c8:1946", "82.50.72.202", "85.214.157.71", "93.184.216.34",
    ]  # fmt: skip
    assert counters["ip"] == 25
    phones, counters = redact(texts, kinds=["phone"], phone="\x00")
    assert sorted(found_in(texts, phones, "\x00")) == [
        "+1 707 829 0104", "+1 707 829 0515", "1-800-998-9938",  # an O'Reilly order line (Chinese Perl docs)
        "548.326.4584", "834.345.1254", "892.345.3428", "925.541.7625",  # the phone book in Python's re docs
    ]  # fmt: skip
    emails, counters = redact(texts, kinds=["email"], email="\x00")
    hits = found_in(texts, emails, "\x00")
    assert counters["email"] == len(hits) == 499
    assert all(re.fullmatch(r"[\w.%+\-]+@[\w\-]+(\.[\w\-]+)+", h, re.ASCII) for h in hits)
