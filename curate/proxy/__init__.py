"""Proxy models that show which blend is better (``curate proxy train | eval | compare``).

Owns: ``model`` (a small Llama-style model), ``train`` (WSD trainer with resume), ``data`` (documents to
token streams, held-out sets), ``evalsets`` and ``evaluate`` (bits per byte and zero-shot benchmarks),
``compare`` (candidates × seeds → verdicts and report), ``config`` (the compare file model),
``tokenizer`` (the comparison's shared BPE).
May import: :mod:`curate.core`, :mod:`curate.io`.
"""
