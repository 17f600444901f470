"""Looking at a run: the HTML report with plots, ``curate inspect``, and the dataset card text.

Owns: ``html`` (the run view and report page), ``plots`` (matplotlib figures from plain numbers),
``inspect`` (a terminal summary), ``dataset_card`` (the Hub card's markdown).
May import: :mod:`curate.core`, :mod:`curate.io`, :mod:`curate.engine` (stats files).
"""
