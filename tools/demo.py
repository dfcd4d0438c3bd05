#!/usr/bin/env python
"""The demo: MBCD on generated EPIC-Kitchens-layout data, no download.

    python tools/demo.py [--scenario imbalance|balanced] \
        [train.py flags, e.g. --work-dir DIR --seed 1]

Writes the synthetic dataset to data/epic_demo (with ``--scenario``:
data/epic_<scenario>, the controlled scenario of that name with its default
options; docs/experiments.md, "Controlled scenarios") unless it is there
already, then runs tools/train.py on configs/mbcd/mbcd_epic_demo.py (with
``data_root`` set to the scenario's data): train on D2 + D3, keep the best
checkpoint on their validation splits, test it on D1
(work_dirs/mbcd_epic_demo/target_results.json).
"""
import argparse
import json
import os.path as osp
import sys

from mbcd_mmaction.parsers import build_train_parser

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEMO_CONFIG = osp.join(ROOT, 'configs', 'mbcd', 'mbcd_epic_demo.py')
DEMO_DATA = 'data/epic_demo'  # the demo config's data_root
#: torch threads of the demo: its numbers depend on the thread count
DEMO_THREADS = 2


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    own = argparse.ArgumentParser(
        description=__doc__.splitlines()[1],
        epilog='Every other argument is a tools/train.py flag (--work-dir, '
        '--seed, --cfg-options, --resume, ...); the config is '
        'configs/mbcd/mbcd_epic_demo.py.')
    own.add_argument('--scenario',
                     help='generate and train on a controlled scenario: '
                     'imbalance or balanced (docs/experiments.md)')
    own.add_argument('--threads', type=int, default=DEMO_THREADS,
                     help='torch CPU threads (default %(default)s): the '
                     'demo\'s numbers depend on the thread count, so it is '
                     'fixed')
    demo, rest = own.parse_known_args(argv)
    if demo.threads < 1:
        own.error(f'--threads {demo.threads}: expected >= 1')
    args = build_train_parser().parse_args([DEMO_CONFIG, *rest])
    # after parsing: --help answers without importing torch and mmaction
    import torch

    import mbcd_mmaction.registration  # noqa: F401  (registers components)
    from mbcd_mmaction.apis import setup_cfg, train
    from mbcd_mmaction.datasets.synthetic import (SCENARIO_DEFAULTS,
                                                  generate_epic_kitchens,
                                                  scenario_root)
    if demo.scenario is not None and demo.scenario not in SCENARIO_DEFAULTS:
        own.error(f'--scenario {demo.scenario}: expected one of '
                  f'{sorted(SCENARIO_DEFAULTS)}')
    torch.set_num_threads(demo.threads)
    data = scenario_root(demo.scenario)
    if osp.isdir(osp.join(data, 'MM-SADA_Domain_Adaptation_Splits')):
        if demo.scenario:
            meta_file = osp.join(data, 'synthetic_meta.json')
            meta = json.load(open(meta_file)) if osp.isfile(meta_file) \
                else {}
            if (meta.get('scenario') or {}).get('name') != demo.scenario:
                raise ValueError(
                    f'{data} exists but is not the {demo.scenario!r} '
                    f'scenario ({meta_file} says '
                    f"{(meta.get('scenario') or {}).get('name')!r}); "
                    'remove it or regenerate it with python -m '
                    'mbcd_mmaction.datasets.synthetic --scenario '
                    f'{demo.scenario} --overwrite')
    else:
        meta = generate_epic_kitchens(data, scenario=demo.scenario)
        print(f'wrote {data} in {meta["seconds"]} s: {meta["counts"]}')
    if demo.scenario:
        options = dict(args.cfg_options or {})
        options.setdefault('data_root', data)
        args.cfg_options = options
    train(setup_cfg(args))


if __name__ == '__main__':
    main()
