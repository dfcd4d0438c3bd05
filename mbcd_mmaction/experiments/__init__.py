"""Experiment bookkeeping: the paper's table cells and the command that
produces each (:mod:`.grid`), sweeps of runs through submitit
(:mod:`.sweep`), offline model selection (:mod:`.selection`) and the
tables (:mod:`.collect`).

Importing this package imports neither torch nor mmaction (the package
root is light), so the tools built on it start at once."""
