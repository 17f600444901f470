"""The foundation every other part builds on: the stage API and registry, the document schema, errors,
config-file loading, stable hashing and tokenizers.

Owns: ``stage`` (what a stage is), ``registry`` (name → stage class), ``schema`` (column names, ids),
``errors`` (error kinds), ``config`` (YAML + pydantic with file:line errors), ``hashing`` (xxhash and
splitmix64 helpers), ``tokenizer`` (Hugging Face ``tokenizers`` loading, training, batch encoding).
May import: nothing else of curate.
"""
