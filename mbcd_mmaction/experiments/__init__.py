"""Experiment bookkeeping: the paper's table cells and the command that
produces each (:mod:`.grid`), sweeps of runs through submitit
(:mod:`.sweep`), offline model selection (:mod:`.selection`) and the
tables (:mod:`.collect`).

:mod:`.grid`, :mod:`.selection` and :mod:`.collect` are stdlib-only;
importing ``mbcd_mmaction.experiments`` runs the package ``__init__``
(which imports torch), so tools that must stay light load them by file path
(see ``tools/list_experiments.py`` and ``tools/collect_results.py``)."""
