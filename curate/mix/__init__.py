"""Mixing: curated outputs become a Phi-4-like training blend (``curate mix``).

Owns: ``config`` (the mixture file model), ``filter`` (the source filter grammar), ``pieces`` (input
pieces), ``select`` (what a blend takes and its order), ``tasks`` (the parallel steps), ``blend`` (the
driver), ``tokens`` (token counting with a cache), ``megatron`` (the Megatron-LM ``.bin/.idx`` writer and
merge), ``report`` (weights.md/.csv, mixture.json, data_path.txt).
May import: :mod:`curate.core`, :mod:`curate.io`, and from :mod:`curate.engine` the reduce's task records,
the shuffle and the executors.
"""
