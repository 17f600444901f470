"""Checks on a resume that committed work is still what was committed; what is not is redone, not trusted.

A unit's stats file commits it (:mod:`curate.engine.worker`), a ``reduce.json`` commits a reduce's state
(:mod:`curate.engine.reduce`); both name the checksum of every file they commit and are sealed with a
digest of their own content (:mod:`curate.io.checksums`). Before a phase runs, the runner asks here which
units are really done: a unit whose stats are torn or whose files are truncated, flipped or missing loses
its commit and runs again, as does a reduce whose state no longer matches. Each such repair is said on
stderr, also under ``--quiet``. Memory is bounded by one checksum block; time by reading the committed files once.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from curate.engine.reduce import REDUCE_INFO
from curate.engine.worker import RunPaths
from curate.io.checksums import is_sealed, mismatched
from curate.io.shards import read_record


def _say(message: str) -> None:
    """Repairs are said even with --quiet: a run that redid work should say why."""
    print(f"curate: {message}", file=sys.stderr)


def _problem(record: dict, root: Path) -> str | None:
    if not record:
        return "its commit record is unreadable (torn)"
    if not is_sealed(record):
        return "its commit record does not match its checksum"
    bad = mismatched(root, record.get("files", {}))
    return "; ".join(bad) if bad else None


def unit_done(paths: RunPaths, phase: int, unit: int) -> bool:
    """True when the unit's phase is committed and every file it committed is intact; else un-commit it."""
    marker = paths.stats(phase, unit)
    if not marker.exists():
        return False
    problem = _problem(read_record(marker), paths.out)
    if problem is None:
        return True
    _say(f"{marker}: {problem}; redoing unit {unit} of phase {phase + 1}")
    marker.unlink(missing_ok=True)
    return False


def state_done(paths: RunPaths, phase: int) -> bool:
    """True when the phase's reduce state is committed and intact; else remove it so the reduce runs again."""
    state = paths.state(phase)
    if not state.exists():
        return False
    problem = _problem(read_record(state / REDUCE_INFO), state)
    if problem is None:
        return True
    _say(f"{state}: {problem}; reducing again")
    shutil.rmtree(state)
    return False
