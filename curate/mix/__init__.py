"""Mixing: curated outputs become a Phi-4-like training blend (``curate mix``).

Owns: ``config`` (the mixture file model), ``filter`` (the source filter grammar), ``blend`` (selection
by epochs, shuffle, shards), ``tokens`` (token counting with a cache), ``megatron`` (the Megatron-LM
``.bin/.idx`` indexed-dataset writer), ``report`` (weights.md/.csv, mixture.json, data_path.txt).
May import: :mod:`curate.core`, :mod:`curate.io`.
"""
