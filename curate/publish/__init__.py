"""Publishing a run to the Hugging Face Hub (``curate publish``): laying out configs and uploading.

Owns: ``hub`` (the folder layout, card inputs, the command), ``upload`` (commit only what the repo lacks).
May import: :mod:`curate.core`, :mod:`curate.io`, :mod:`curate.report`.
"""
