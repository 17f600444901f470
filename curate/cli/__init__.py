"""The ``curate`` command line. Each module wires one command to the package that does the work.

May import: everything; nothing imports it. ``python -m curate.cli`` runs it as ``curate`` does.
"""

from curate.cli.app import main

__all__ = ["main"]
