"""The MBCD paper's analyses on trained runs: flatness (Figure 3),
modality-shift robustness (Figure 1b), missing modality, t-SNE of the fused
embeddings (Figure 6), training curves (Figure 5) and the mechanism
(per-modality accuracy, drop probabilities, teacher vs student per epoch). Each function returns
the numbers (JSON-able dicts); :mod:`.plots` draws them;
``tools/analyze.py`` runs them on work dirs."""
from mbcd_mmaction import compat  # noqa: F401  (before mmaction imports)
from .core import (TargetData, describe_run, flatness, load_run, missing_modality,
                   modality_noise, tsne_embeddings)
from .curves import drop_probabilities, mechanism_curves, training_curves

__all__ = ['TargetData', 'describe_run', 'drop_probabilities', 'flatness',
           'load_run', 'mechanism_curves', 'missing_modality',
           'modality_noise', 'training_curves', 'tsne_embeddings']
