"""Publishing a run to the Hugging Face Hub (``curate publish``): laying out configs and uploading.

Owns: ``hub`` (the folder layout, card inputs, resumable upload).
May import: :mod:`curate.core`, :mod:`curate.io`, :mod:`curate.report`.
"""
