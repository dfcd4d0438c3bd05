"""Stop with a clear error when a loss, a model weight or a test output
becomes NaN or infinite."""
import glob
import math
import os
import os.path as osp
from typing import Dict, Optional

import torch
import torch.distributed as torch_dist
from mmaction.registry import HOOKS
from mmengine.dist import all_gather_object, get_rank, get_world_size
from mmengine.hooks import Hook


class NonFiniteLossError(FloatingPointError):
    """A training loss was NaN or infinite."""


class NonFiniteWeightsError(FloatingPointError):
    """A checkpoint loaded for evaluation holds NaN or infinite weights."""


class NonFiniteOutputError(FloatingPointError):
    """The model predicted NaN or infinite scores during evaluation."""


def _finite_checkpoint(path: str) -> bool:
    from ..runner.integrity import checkpoint_problem
    if checkpoint_problem(path) is not None:
        return False  # damaged: torch.load would not notice
    try:
        state = torch.load(path, map_location='cpu', weights_only=True)
    except Exception:  # noqa: BLE001 - torn or refused: not a good one
        return False
    state = state.get('state_dict', state) if isinstance(state, dict) else {}
    return all(bool(torch.isfinite(t).all()) for t in state.values()
               if isinstance(t, torch.Tensor) and t.is_floating_point())


def last_good_checkpoint(runner) -> Optional[str]:
    """The newest checkpoint of the work directory whose weights are all
    finite (the one ``last_checkpoint`` names first, then the other
    ``*.pth`` files, newest first), or None.

    A checkpoint written after the step that sent the weights to inf, but
    before the loss showed it, is not a good one.
    """
    work_dir = runner.work_dir
    candidates = []
    pointer = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(pointer):
        with open(pointer) as f:
            candidates.append(f.read().strip())
    candidates += sorted(glob.glob(osp.join(work_dir, '*.pth')),
                         key=lambda p: -os.stat(p).st_mtime_ns)
    for path in dict.fromkeys(c for c in candidates if c):
        if osp.isfile(path) and _finite_checkpoint(path):
            return path
    return None


def check_finite_weights(model, checkpoint: str) -> None:
    """Raise :class:`NonFiniteWeightsError` naming ``checkpoint`` and the
    tensors if a floating-point parameter or buffer of ``model`` is NaN or
    infinite (a checkpoint saved after training diverged)."""
    model = getattr(model, 'module', model)
    bad = []
    for name, tensor in model.state_dict().items():
        if isinstance(tensor, torch.Tensor) and tensor.is_floating_point():
            finite = torch.isfinite(tensor)
            if not bool(finite.all()):
                bad.append(f'{name} ({int((~finite).sum())} of '
                           f'{tensor.numel()} values)')
    if bad:
        shown = ', '.join(bad[:5]) + (f' and {len(bad) - 5} more tensors'
                                      if len(bad) > 5 else '')
        raise NonFiniteWeightsError(
            f'Checkpoint {checkpoint} holds NaN or infinite weights: {shown}.'
            ' Its metrics would be meaningless. Test an earlier checkpoint '
            '(saved before the training diverged).')


def _non_finite(value, path: str, found: list) -> None:
    """Collect the names of non-finite floating tensors inside ``value``
    (tensors, data elements, dicts, lists)."""
    if isinstance(value, torch.Tensor):
        if value.is_floating_point() and not bool(
                torch.isfinite(value).all()):
            found.append(path)
    elif isinstance(value, dict):
        for key, item in value.items():
            _non_finite(item, f'{path}.{key}' if path else str(key), found)
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _non_finite(item, f'{path}[{i}]', found)
    elif hasattr(value, 'all_items'):  # mmengine BaseDataElement
        _non_finite(dict(value.all_items()), path, found)


def _as_floats(outputs) -> Dict[str, float]:
    values = {}
    for key, value in (outputs or {}).items():
        if isinstance(value, torch.Tensor):
            if value.numel() != 1:
                continue
            value = value.detach().float().item()
        if isinstance(value, (int, float)):
            values[str(key)] = float(value)
    return values


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Raises :class:`NonFiniteLossError` naming the iteration and the loss
    values as soon as a loss (a log variable whose name contains 'loss') is
    not finite.

    It runs first in ``after_train_iter``: before the EMA teacher update,
    the logger and any checkpoint of that iteration, so no checkpoint holds
    weights updated from a non-finite loss. Under distributed training the
    ranks agree first (one integer all-reduce per iteration), so every rank
    stops with the same error instead of the others waiting at the next
    collective; the message lists each rank's values.

    Args:
        interval (int): Check every ``interval`` iterations. Defaults to 1.
    """

    priority = 'VERY_HIGH'

    def __init__(self, interval: int = 1):
        if interval < 1:
            raise ValueError(f'interval must be >= 1, got {interval}')
        self.interval = interval

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        if (runner.iter + 1) % self.interval:
            return
        values = _as_floats(outputs)
        bad = any(not math.isfinite(v) for k, v in values.items()
                  if 'loss' in k)
        distributed = (torch_dist.is_available()
                       and torch_dist.is_initialized()
                       and get_world_size() > 1)
        if distributed:
            flag = torch.tensor([int(bad)], dtype=torch.int32)
            if torch_dist.get_backend() == 'nccl':
                flag = flag.cuda()
            torch_dist.all_reduce(flag, op=torch_dist.ReduceOp.MAX)
            bad = bool(flag.item())
        if not bad:
            return
        per_rank = all_gather_object(values) if distributed else [values]
        lines = []
        for rank, vals in enumerate(per_rank):
            shown = ', '.join(f'{k}={v:.6g}' for k, v in vals.items())
            lines.append(f'  rank {rank}: {shown}' if distributed
                         else f'  {shown}')
        n_batches = len(runner.train_dataloader)
        last = last_good_checkpoint(runner)
        good = (f'The last good checkpoint (finite weights) is {last}; '
                f'--resume {last} continues from it.' if last else
                'No checkpoint with finite weights was written before it.')
        raise NonFiniteLossError(
            f'Non-finite loss at training iteration {runner.iter + 1} '
            f'(epoch {runner.epoch + 1}, batch {batch_idx + 1}/{n_batches}'
            f'{", rank %d" % get_rank() if distributed else ""}):\n'
            + '\n'.join(lines) +
            '\nTraining stopped before the EMA teacher update and before '
            'any checkpoint of this iteration was written. ' + good +
            ' Check the inputs of this batch and the learning rate (a '
            'smaller lr or gradient clipping, optim_wrapper.clip_grad).')


@HOOKS.register_module()
class NonFiniteOutputHook(Hook):
    """Raises :class:`NonFiniteOutputError` at the first validation or test
    batch whose predictions (scores, logits: any floating tensor in the
    model's outputs) are NaN or infinite, naming the checkpoint, the batch
    and the field. Metrics of such outputs (argmax of NaN is 0) would look
    plausible.

    Args:
        checkpoint (str, optional): The checkpoint evaluated, for the
            message. Defaults to the runner's ``load_from``.
    """

    priority = 'VERY_HIGH'

    def __init__(self, checkpoint: Optional[str] = None):
        self.checkpoint = checkpoint

    def _check(self, runner, batch_idx, outputs, mode) -> None:
        found = []
        _non_finite(outputs, '', found)
        if not found:
            return
        checkpoint = self.checkpoint or getattr(runner, '_load_from', None)
        raise NonFiniteOutputError(
            f'NaN or infinite model outputs in {mode} batch {batch_idx + 1}'
            f' (checkpoint {checkpoint or "none: weights of this run"}): '
            f'{", ".join(found[:5])}'
            f'{" and %d more" % (len(found) - 5) if len(found) > 5 else ""}'
            '. The weights are finite but overflow on these inputs; the '
            'metrics would be meaningless.')

    def after_val_iter(self, runner, batch_idx, data_batch=None,
                       outputs=None) -> None:
        self._check(runner, batch_idx, outputs, 'validation')

    def after_test_iter(self, runner, batch_idx, data_batch=None,
                        outputs=None) -> None:
        self._check(runner, batch_idx, outputs, 'test')
