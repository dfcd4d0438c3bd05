"""Save and restore the random number generators with checkpoints."""
import random

import numpy as np
import torch
from mmaction.registry import HOOKS
from mmengine.dist import all_gather_object, get_rank, get_world_size
from mmengine.hooks import Hook
from mmengine.logging import print_log


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

    Distributed runs: the ranks' streams differ (``--diff-rank-seed``, or
    data-dependent draws such as crop retries) and only rank 0 writes the
    checkpoint, so every rank's states are gathered at each point where a
    checkpoint may follow (after a training iteration or epoch, after
    validation: one small all-gather) and saved as
    ``random_state_per_rank``; on resume each rank takes its own (with the
    same number of processes; otherwise rank 0's ``random_state``).
    """

    priority = 'HIGHEST'  # restore before CheckpointHook saves the best

    def __init__(self):
        self._before_val = None
        self._per_rank = None

    def _gather(self) -> None:
        if get_world_size() > 1:
            self._per_rank = all_gather_object(get_random_state())

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        self._gather()

    def after_train_epoch(self, runner) -> None:
        self._gather()

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
        self._gather()

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint['random_state'] = get_random_state()
        if self._per_rank is not None and len(self._per_rank) > 1:
            checkpoint['random_state_per_rank'] = self._per_rank

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        # mmengine sets `_resume` for --resume/resume=True only.
        if not getattr(runner, '_resume', False) or \
                'random_state' not in checkpoint:
            return
        per_rank = checkpoint.get('random_state_per_rank', None)
        world_size = get_world_size()
        if per_rank is not None and len(per_rank) == world_size:
            set_random_state(per_rank[get_rank()])
            return
        if world_size > 1 or per_rank is not None:
            print_log(
                'The checkpoint holds the random states of '
                f'{len(per_rank) if per_rank else 1} process(es), this run '
                f'has {world_size}: every rank continues from rank 0\'s.',
                logger='current', level=30)
        set_random_state(checkpoint['random_state'])
