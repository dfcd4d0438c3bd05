"""What produced a result: written into ``target_results.json``, every
``eval_log.jsonl`` line and each checkpoint's meta, so a table cell can be
traced to the protocol, options, seed and code that made it."""
import os.path as osp
import subprocess
from functools import lru_cache
from typing import Dict, Optional

from mbcd_mmaction.datasets.protocols import resolved_experiment

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))


@lru_cache(maxsize=None)
def code_version() -> Dict[str, object]:
    """The package version, the git commit of its checkout (None outside a
    git checkout) and whether tracked files differ from that commit, and
    the versions of the libraries that change numbers."""
    import mmengine
    import torch

    import mbcd_mmaction
    try:
        import mmaction
        mmaction_version = mmaction.__version__
    except ImportError:  # pragma: no cover - a dependency
        mmaction_version = None
    commit = dirty = None
    try:
        commit = subprocess.run(
            ['git', '-C', REPO_ROOT, 'rev-parse', 'HEAD'],
            capture_output=True, text=True, timeout=10,
            check=True).stdout.strip() or None
        dirty = bool(subprocess.run(
            ['git', '-C', REPO_ROOT, 'status', '--porcelain',
             '--untracked-files=no'], capture_output=True, text=True,
            timeout=10, check=True).stdout.strip())
    except (OSError, subprocess.SubprocessError):
        pass  # not a git checkout (an installed package): no commit
    return dict(mbcd_mmaction=mbcd_mmaction.__version__, git_commit=commit,
                git_dirty=dirty, torch=torch.__version__,
                mmengine=mmengine.__version__, mmaction=mmaction_version)


def run_provenance(cfg, request: Optional[Dict] = None,
                   seed: Optional[int] = None) -> Dict[str, object]:
    """The run's identity.

    Args:
        cfg: The resolved config the runner was built from.
        request (dict, optional): What the user asked for on the command
            line (:func:`mbcd_mmaction.apis.config.run_request`): the config
            file, the ``--cfg-options`` and the seed given. None when the
            run was started another way (e.g. ``mim train``): then
            ``options`` is None (unknown), not ``{}``.
        seed (int, optional): The seed the runner uses (the config's when
            None).
    """
    request = request or {}
    return dict(
        experiment=resolved_experiment(cfg),
        config_file=request.get('config') or getattr(cfg, 'filename', None),
        options=request.get('cfg_options', None) if request else None,
        command=request.get('argv', None),
        seed=seed if seed is not None else
        (cfg.get('randomness', None) or {}).get('seed', None),
        code=code_version())


def provenance_of(runner) -> Dict[str, object]:
    """:func:`run_provenance` of ``runner``: the one ``apis.train`` /
    ``apis.test`` attached (with the command line's request), else computed
    from its config once."""
    record = getattr(runner, 'mmdg_provenance', None)
    if record is None:
        record = run_provenance(runner.cfg, seed=runner.seed)
        runner.mmdg_provenance = record
    return record
