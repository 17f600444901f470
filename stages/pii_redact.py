"""``pii_redact``: replace e-mail addresses, IP addresses and phone numbers with placeholders.

E-mail addresses are found and replaced by an Arrow (RE2) kernel over the whole batch. IPs and phone
numbers need context a RE2 pattern cannot express (what precedes a match, a parsed address, a digit count),
so a loose RE2 pattern first picks the rows that could hold one, and Python's ``re`` with look-arounds and a
validator replaces only in those rows.

What is not PII, and so never replaced (each case is a test):

* versions and numbers in running text: ``v1.2.3``, ``3.11.7``, ``version 1.2.3.4``, ``x = 1234567``,
  ``1.2.3.4.5``, ``+000000120``; dates and times: ``2024-01-15``, ``12/05/2023``, ``10:30:00``; ISBNs (``ISBN 0-306-40615-2``);
* IPs that point at no one: private, loopback (also ``::1:123``, loopback and a port), link-local, multicast, documentation and reserved ranges
  (``127.0.0.1``, ``192.168.1.1``, ``224.0.0.251``, ``2001:db8::1``), as datatrove's PIIFormatter does by
  default (``public_ips_only: false`` replaces every valid IP);
* IPv4-shaped numbers whose four parts are all below 32: section numbers (``12.3.2.1. Configuration``) fill
  documentation, and a random address looks like that once in about 4,500.

Phone numbers are recognised in four shapes: international (``+49 30 1234567``, ``+1 (555) 123-4567``),
North American (``555-123-4567``, ``(555) 123-4567``), Chinese mobile (``13812345678``, ``138-1234-5678``) and
trunk-prefixed landlines (``010-12345678``, ``030/1234567``), with 7 to 15 digits. The manifest's
``counters`` give the replacements per kind. Memory: one batch.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from curate.core.registry import register
from curate.core.schema import TEXT
from curate.core.stage import MapStage, Params, Verdict
from curate.stages.lib.rows import on_rows

EMAIL = r"\b[A-Za-z0-9._%+\-]+@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}\b"
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
#: loose RE2 patterns that pick the rows worth a look by the exact Python patterns below
FLAGS = {
    "ip": r"\d\.\d{1,3}\.\d{1,3}\.\d|[0-9A-Fa-f]:[0-9A-Fa-f]{0,4}:",
    "phone": r"\+\d|\d{3}[ .\-/]\d{3}|\(\d{2,4}\)|1[3-9]\d{9}|0\d{2,4}[ \-/]\d{5}",
}
_BEFORE = r"(?<![A-Za-z0-9_.\-/:+])"  # ASCII classes: a Chinese character before a number is a boundary
IPV4 = re.compile(_BEFORE + rf"{_OCTET}(?:\.{_OCTET}){{3}}(?![A-Za-z0-9_\-]|\.\d)")
IPV6 = re.compile(r"(?<![A-Za-z0-9_.:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![A-Za-z0-9_:])")
PHONE = re.compile(
    _BEFORE
    + r"(?:\+[1-9]\d{0,2}(?:[ .\-]?\(\d{1,4}\))?(?:[ .\-]?\d{1,5}){2,5}"  # international
    + r"|(?:1[ .\-])?(?:\(\d{3}\) ?\d{3}[ .\-]\d{4}|\d{3}([.\-])\d{3}\1\d{4})"  # North American
    + r"|1[3-9]\d(?:[ \-]?\d{4}){2}"  # Chinese mobile
    + r"|0\d{2,4}[ \-/]\d{5,8})"  # trunk-prefixed landline
    + r"(?![A-Za-z0-9_\-/:]|\.\d)"
)
#: words right before a number that make it a version or a book number, not an address or a phone
NOT_PII_BEFORE = re.compile(r"(?i)(?:\bversion|\bver\.?|\brelease|\bbuild|\bv|\bisbn(?:-1[03])?:?)\s*$")


class PiiRedactParams(Params):
    kinds: list[Literal["email", "ip", "phone"]] = Field(["email", "ip", "phone"], description="What to replace.")
    email: str = Field("<EMAIL>", description="Placeholder for an e-mail address.")
    ip: str = Field("<IP>", description="Placeholder for an IPv4 or IPv6 address.")
    phone: str = Field("<PHONE>", description="Placeholder for a phone number.")
    public_ips_only: bool = Field(True, description="Replace only globally routable IPs (as datatrove does).")


@register
class PiiRedact(MapStage):
    name = "pii_redact"
    Params = PiiRedactParams

    def process(self, batch: pa.Table) -> Verdict:
        p = self.params
        text = batch.column(TEXT).combine_chunks() if batch.num_rows else pa.array([], pa.string())
        counters: dict[str, int] = {}
        if "email" in p.kinds:
            counters["email"] = int(pc.sum(pc.count_substring_regex(text, EMAIL)).as_py() or 0)
            text = pc.replace_substring_regex(text, EMAIL, p.email.replace("\\", "\\\\"))
        for kind, replace in (("ip", self._ips), ("phone", self._phones)):
            if kind in p.kinds:
                found = [0]
                flagged = pc.match_substring_regex(text, FLAGS[kind])
                text = on_rows(text, flagged, lambda s, replace=replace, found=found: replace(s, found))
                counters[kind] = found[0]
        return Verdict(batch.set_column(batch.column_names.index(TEXT), TEXT, text), counters=counters)

    def _ips(self, s: str, found: list[int]) -> str:
        for pattern in (IPV6, IPV4):
            s = pattern.sub(lambda m: self._swap(m, self._is_ip(m.group(0)), self.params.ip, found), s)
        return s

    def _phones(self, s: str, found: list[int]) -> str:
        return PHONE.sub(lambda m: self._swap(m, 7 <= sum(c.isdigit() for c in m.group(0)) <= 15, self.params.phone, found), s)

    def _is_ip(self, candidate: str) -> bool:
        if not any(c.isdigit() for c in candidate):  # `add::dead` is valid IPv6 and never an address in text
            return False
        try:
            address = ipaddress.ip_address(candidate)
        except ValueError:
            return False
        if address.version == 4 and all(int(part) < 32 for part in candidate.split(".")):
            return False  # `12.3.2.1`: a section number (a random address has all four below 32 once in 4,500)
        if address.version == 6 and int(address) >> 120 == 0 and address.ipv4_mapped is None:
            return False  # ::/8 is reserved: `::1:123` is loopback `::1` and a port, as netstat prints it
        return (address.is_global and not address.is_multicast) or not self.params.public_ips_only

    @staticmethod
    def _swap(m: re.Match, valid: bool, placeholder: str, found: list[int]) -> str:
        if not valid or NOT_PII_BEFORE.search(m.string, max(0, m.start() - 12), m.start()):
            return m.group(0)
        found[0] += 1
        return placeholder
