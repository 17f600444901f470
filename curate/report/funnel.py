"""The stage funnel in documents and in characters, one row per step: what the report, ``curate inspect``
and the funnel plot all show.

Documents alone hide what text-cutting steps do: a step that keeps 95% of documents but cuts three
quarters of their text (C4's line clean-up, paragraph dedup) looks harmless in a document count. Each row
therefore has the share of documents and of characters kept, the characters cut out of documents the
step kept (``chars_in - chars_kept - chars_dropped``), and a flag when the character loss is
:data:`LARGE_CHAR_LOSS` percentage points or more above the document loss.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Flag a step whose share of characters kept is this many percentage points below its share of documents kept.
LARGE_CHAR_LOSS = 10.0


def _pct(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else 100.0


@dataclass(frozen=True)
class FunnelRow:
    """One step of a run's manifest (or merged unit stats), with its shares computed."""

    name: str
    docs_in: int
    kept: int
    dropped: int
    chars_in: int
    chars_kept: int
    chars_dropped: int | None  # None in manifests written before it was counted
    expands: bool  # an expand step: inputs become new documents, so the shares compare unlike things

    @property
    def docs_kept_pct(self) -> float:
        return _pct(self.kept, self.docs_in)

    @property
    def chars_kept_pct(self) -> float:
        return _pct(self.chars_kept, self.chars_in)

    @property
    def chars_cut(self) -> int | None:
        """Characters removed from documents the step kept (text rewritten shorter); None when unknown."""
        if self.chars_dropped is None:
            return None
        return self.chars_in - self.chars_kept - self.chars_dropped

    @property
    def large_char_loss(self) -> bool:
        return not self.expands and self.chars_in > 0 and self.docs_kept_pct - self.chars_kept_pct >= LARGE_CHAR_LOSS

    def warning(self) -> str:
        """One sentence saying why the step is flagged (empty when it is not)."""
        if not self.large_char_loss:
            return ""
        cut = self.chars_cut
        where = f"; {cut:,} of them cut from documents it kept" if cut else ""
        return (
            f"{self.name} keeps {self.docs_kept_pct:.1f}% of documents but only {self.chars_kept_pct:.1f}% of "
            f"characters: {self.chars_in - self.chars_kept:,} characters removed{where}"
        )


def funnel_rows(steps: list[dict]) -> list[FunnelRow]:
    """Rows from the ``stages`` entries of a manifest (or :meth:`StepStats.to_json` dicts with a name)."""
    return [
        FunnelRow(
            s["name"], s["docs_in"], s["kept"], s["dropped"], s.get("chars_in", 0), s.get("chars_kept", 0),
            s.get("chars_dropped"), s.get("outputs") is not None,
        )
        for s in steps
    ]
