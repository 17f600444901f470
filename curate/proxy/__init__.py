"""Proxy models that show which blend is better (``curate proxy train | eval | compare``).

Owns: ``model`` (a small Llama-style model), ``train`` (WSD trainer with resume, data parallel),
``distributed`` (torchrun / local gloo processes), ``data`` (documents to memory-mapped token files,
controls, held-out sets), ``evalsets`` and ``evaluate`` (bits per byte and zero-shot benchmarks),
``compare`` (candidates × seeds → runs), ``report`` (verdicts, resolvable difference, summary, plots),
``plan`` (presets, tokens/s, wall time), ``config`` (the compare file model), ``tokenizer`` (the
comparison's shared BPE).
May import: :mod:`curate.core`, :mod:`curate.io`.
"""
