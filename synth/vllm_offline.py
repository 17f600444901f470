"""What the two users of vLLM's offline ``LLM`` (synthesis, LM-loss scoring) share: stopping it cleanly.

An ``LLM`` owns an engine-core process and a daemon thread that watches it. Left to the interpreter's
exit, that thread can wake while the interpreter is tearing down; in a process that also loaded Ray this
aborts the process *after* its work succeeded. Shutting the engine down when its stage is done avoids
the race and frees the memory at once.
"""

from __future__ import annotations


def shutdown_llm(llm: object | None) -> None:
    """Stop an ``LLM``'s engine core (process and watcher thread); a no-op for None or a stopped engine."""
    core = getattr(getattr(llm, "llm_engine", None), "engine_core", None)
    shutdown = getattr(core, "shutdown", None)
    if callable(shutdown):
        shutdown()
