"""Save and restore the random number generators with checkpoints."""
import random

import numpy as np
import torch
from mmaction.registry import HOOKS
from mmengine.hooks import Hook


def get_random_state() -> dict:
    """States of Python's, numpy's and torch's global generators."""
    state = dict(python=random.getstate(), numpy=np.random.get_state(),
                 torch=torch.get_rng_state())
    if torch.cuda.is_available():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_random_state(state: dict) -> None:
    random.setstate(state['python'])
    np.random.set_state(state['numpy'])
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Makes ``--resume`` continue the random streams of the interrupted run.

    mmengine re-seeds a resumed run from the config seed, so the adaptive
    modality-dropout masks, head dropout and (with ``num_workers=0`` or
    non-persistent workers) data augmentation would differ from an
    uninterrupted run. This hook stores the global generators' states in
    every checkpoint and restores them when a run resumes (not for
    ``load_from``, which starts a new run from given weights).

    Validation draws from the global torch generator too (a DataLoader
    draws its base seed when iterated), and an uninterrupted run validates
    between the epoch-end checkpoint and the next epoch; so validation is
    made neutral: the states are put back after it.
    """

    priority = 'HIGHEST'  # restore before CheckpointHook saves the best

    def __init__(self):
        self._before_val = None

    def before_val(self, runner) -> None:
        self._before_val = get_random_state()

    def after_val(self, runner) -> None:
        if self._before_val is not None:
            set_random_state(self._before_val)
            self._before_val = None

    def after_val_epoch(self, runner, metrics=None) -> None:
        # CheckpointHook saves the best checkpoint in after_val_epoch: it
        # must record the training streams, not the validation-consumed ones.
        if self._before_val is not None:
            set_random_state(self._before_val)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint['random_state'] = get_random_state()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        # mmengine sets `_resume` for --resume/resume=True only.
        if getattr(runner, '_resume', False) and 'random_state' in checkpoint:
            set_random_state(checkpoint['random_state'])
