"""The run engine: a recipe becomes phases of stages run over work units on an executor.

Owns: ``recipe`` (the recipe model), ``pipeline`` (phases, running a batch through map stages, global
steps), ``worker`` (one unit through one phase, committed atomically), ``runner`` (plan, check, execute,
reduce, manifest), ``reduce`` and ``shuffle`` (parallel, resumable reduces through hash-partitioned
files), ``executors`` (local processes, Ray), ``validate`` (every problem of a recipe in one pass),
``run_schema`` (one schema for all shards of a run), ``progress`` (documents/s and ETA per phase).
May import: :mod:`curate.core`, :mod:`curate.io`. Stages are found through the registry, never imported.
"""
