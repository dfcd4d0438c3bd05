"""Every experiment the grid lists, and every shipped config, resolves to the
pinned config.

Each run of the papers' tables and ablations (``tools/list_experiments.py
--runs``) is resolved as ``tools/train.py CONFIG --cfg-options ...`` resolves
it (:func:`mbcd_mmaction.apis.setup_cfg`: the protocol, per-split settings,
modalities, custom imports and device applied), and so is every config file
without options. A sha256 of each resolved dict (without ``work_dir``, which
names the machine's paths) is compared with
``tests/data/pins/resolved_configs.json``. Moving, renaming or refactoring
configs must leave every digest unchanged; a deliberate change of what a run
does is regenerated with

    python tests/configs/test_resolved_configs.py --write

and explained in the commit.
"""
import argparse
import copy
import glob
import hashlib
import json
import os
import os.path as osp

import pytest
from mmengine.config import Config

from mbcd_mmaction.apis.config import setup_cfg
from mbcd_mmaction.experiments import grid

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PIN_FILE = osp.join(ROOT, 'tests', 'data', 'pins', 'resolved_configs.json')


def _run_key(cell) -> str:
    opts = dict(cell.options)
    domain = opts.get('source_domain') or opts.get('target_domain')
    who = cell.label or cell.method
    return (f'run:{cell.table}|{cell.protocol}|{cell.dataset}|'
            f'{cell.modalities}|{who}|{domain}')


def _digest(cfg) -> str:
    resolved = cfg.to_dict()
    resolved.pop('work_dir', None)
    text = json.dumps(resolved, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


def resolved_digests() -> dict:
    """``{run or file key: sha256 of its resolved config}``."""
    parsed = {}
    real_fromfile = Config.fromfile
    declared = vars(Config)['fromfile']  # the staticmethod, restored as is

    def fromfile_once(path, *args, **kwargs):
        # Parsing dominates; every run of one config starts from one parse.
        key = osp.abspath(path)
        if key not in parsed:
            parsed[key] = real_fromfile(path, *args, **kwargs)
        return copy.deepcopy(parsed[key])

    def resolve(config, options):
        args = argparse.Namespace(config=osp.join(ROOT, config),
                                  work_dir=osp.join(ROOT, 'work_dirs', 'x'),
                                  cfg_options=dict(options) or None)
        return _digest(setup_cfg(args))

    Config.fromfile = staticmethod(fromfile_once)
    try:
        digests = {}
        cells = grid.table_cells(list(grid.TABLES) + list(grid.ABLATIONS))
        for cell in grid.unique_runs(cells):
            digests[_run_key(cell)] = resolve(cell.config, cell.options)
        for path in sorted(glob.glob(osp.join(ROOT, 'configs', '*', '*.py'))):
            rel = osp.relpath(path, ROOT)
            if not rel.startswith(osp.join('configs', '_base_')):
                digests[f'file:{rel}'] = resolve(rel, ())
        return digests
    finally:
        Config.fromfile = declared


@pytest.mark.slow
def test_every_run_and_config_resolves_as_pinned():
    with open(PIN_FILE) as f:
        pinned = json.load(f)
    now = resolved_digests()
    assert sorted(now) == sorted(pinned), (
        'runs or configs added or removed: '
        f'new {sorted(set(now) - set(pinned))}, '
        f'gone {sorted(set(pinned) - set(now))}')
    changed = sorted(k for k in now if now[k] != pinned[k])
    assert not changed, f'{len(changed)} resolve differently: {changed[:10]}'


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--write', action='store_true')
    args = parser.parse_args()
    os.chdir(ROOT)
    digests = resolved_digests()
    print(len(digests), 'resolved')
    if args.write:
        from mbcd_mmaction.engine.runner.atomic import atomic_write_bytes
        atomic_write_bytes(PIN_FILE, json.dumps(digests, indent=1,
                                                sort_keys=True).encode())
        print('wrote', PIN_FILE)
