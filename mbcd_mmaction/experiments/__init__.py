"""Experiment bookkeeping, torch-free (stdlib only): the paper's table
cells and the command that produces each (:mod:`.grid`).

Importing ``mbcd_mmaction.experiments`` runs the package ``__init__`` (which
imports torch); tools that must stay light load ``grid.py`` by file path
(see ``tools/list_experiments.py``)."""
