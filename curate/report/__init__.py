"""Looking at a run: the HTML report with plots, ``curate inspect``, and the dataset card text.

Owns: ``html`` (the run view and report page), ``plots`` (matplotlib figures from plain numbers),
``inspect`` (a terminal summary), ``dataset_card`` (the Hub card's markdown) and
``card_sections`` (its columns, sources, funnel, limitations and PII sections; portable paths).
May import: :mod:`curate.core`, :mod:`curate.io`, :mod:`curate.engine` (stats files).
"""
