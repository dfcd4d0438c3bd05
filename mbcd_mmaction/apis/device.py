"""Device-dependent run settings, chosen from what the machine has.

* CUDA available: dataloaders pin memory; distributed runs use NCCL through
  mmengine's own ``init_dist`` (``env_cfg.dist_cfg.backend``, default nccl).
* CPU only and a launcher other than ``none``: mmengine 0.10.7 cannot start
  this itself (``init_dist`` calls ``torch.cuda.set_device``; ``wrap_model``
  passes ``device_ids=[LOCAL_RANK]``, which DDP refuses for CPU modules). We
  initialise a ``gloo`` process group before the Runner is built (the Runner
  skips its own initialisation when a group exists: ``Runner.setup_env``
  checks ``is_distributed()``) and wrap the model with ``device_ids=None``.
"""
import datetime
import os
import subprocess

import torch
import torch.distributed as torch_dist
from mmengine.config import Config


def _dataloader_keys(cfg: Config):
    return [k for k in ('train_dataloader', 'val_dataloader',
                        'test_dataloader') if cfg.get(k, None) is not None]


def configure_device(cfg: Config) -> Config:
    """Write the device-dependent choices into ``cfg`` (no side effects)."""
    cuda = torch.cuda.is_available()
    for key in _dataloader_keys(cfg):
        cfg[key]['pin_memory'] = cuda

    launcher = cfg.get('launcher', 'none') or 'none'
    if cfg.get('env_cfg', None) is None:
        cfg.env_cfg = dict()
    if cfg.env_cfg.get('dist_cfg', None) is None:
        cfg.env_cfg.dist_cfg = dict()
    dist_cfg = cfg.env_cfg.dist_cfg
    if cuda:
        dist_cfg.setdefault('backend', 'nccl')
        return cfg
    dist_cfg['backend'] = 'gloo'
    if launcher != 'none' and cfg.get('sync_bn', None):
        raise ValueError(
            f"sync_bn={cfg.sync_bn!r} needs GPUs: torch's SyncBatchNorm "
            'refuses CPU tensors ("SyncBatchNorm expected input tensor to be '
            'on GPU"), so CPU distributed training would fail at the first '
            'training iteration. Remove it for CPU runs (--cfg-options '
            'sync_bn=None: each process then normalises with the statistics '
            'of its own share of the batch).')
    if launcher != 'none':
        wrapper = dict(cfg.get('model_wrapper_cfg', None)
                       or dict(type='MMDistributedDataParallel'))
        wrapper['device_ids'] = None
        if 'find_unused_parameters' not in wrapper:
            wrapper['find_unused_parameters'] = cfg.get(
                'find_unused_parameters', False)
        cfg.model_wrapper_cfg = wrapper
    return cfg


def _env_from_launcher(launcher: str, port: str) -> None:
    """Set RANK/WORLD_SIZE/LOCAL_RANK/MASTER_* for ``env://`` from the
    variables slurm or Open MPI provide (torchrun sets them already)."""
    if launcher == 'mpi':
        os.environ.setdefault('RANK', os.environ['OMPI_COMM_WORLD_RANK'])
        os.environ.setdefault('WORLD_SIZE',
                              os.environ['OMPI_COMM_WORLD_SIZE'])
        os.environ.setdefault('LOCAL_RANK',
                              os.environ['OMPI_COMM_WORLD_LOCAL_RANK'])
        os.environ.setdefault('MASTER_ADDR', '127.0.0.1')
    elif launcher == 'slurm':
        os.environ.setdefault('RANK', os.environ['SLURM_PROCID'])
        os.environ.setdefault('WORLD_SIZE', os.environ['SLURM_NTASKS'])
        os.environ.setdefault('LOCAL_RANK', os.environ['SLURM_LOCALID'])
        if 'MASTER_ADDR' not in os.environ:
            node_list = os.environ['SLURM_NODELIST']
            os.environ['MASTER_ADDR'] = subprocess.getoutput(
                f'scontrol show hostname {node_list} | head -n1')
    os.environ.setdefault('MASTER_PORT', port)


def init_distributed(cfg: Config) -> str:
    """Start the process group a CPU distributed run needs.

    Returns the backend in use ('' when not distributed). On CUDA machines
    nothing is started here: the Runner calls mmengine's ``init_dist`` with
    ``env_cfg.dist_cfg`` (NCCL).
    """
    launcher = cfg.get('launcher', 'none') or 'none'
    if launcher == 'none':
        return ''
    dist_cfg = cfg.get('env_cfg', {}).get('dist_cfg', {})
    if torch.cuda.is_available():
        return dist_cfg.get('backend', 'nccl')
    if torch_dist.is_available() and torch_dist.is_initialized():
        return torch_dist.get_backend()
    wrapper = cfg.get('model_wrapper_cfg', None) or {}
    if wrapper.get('device_ids', 1) is not None:  # cfg not from setup_cfg
        configure_device(cfg)
    _env_from_launcher(launcher, str(dist_cfg.get('port', 29500)))
    timeout = datetime.timedelta(seconds=dist_cfg.get('timeout', 1800))
    torch_dist.init_process_group(backend='gloo', init_method='env://',
                                  timeout=timeout)
    return 'gloo'
