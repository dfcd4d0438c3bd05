#!/usr/bin/env python
"""The demo: MBCD on generated EPIC-Kitchens-layout data, no download.

    python tools/demo.py [train.py flags, e.g. --work-dir DIR --seed 1]

Writes the synthetic dataset to data/epic_demo unless it is there already,
then runs tools/train.py on configs/mbcd/mbcd_epic_demo.py: train on
D2 + D3, keep the best checkpoint on their validation splits, test it on D1
(work_dirs/mbcd_epic_demo/target_results.json).
"""
import os.path as osp
import sys

import mbcd_mmaction.registration  # noqa: F401  (registers every component)
from mbcd_mmaction.apis import build_train_parser, setup_cfg, train
from mbcd_mmaction.datasets.synthetic import generate_epic_kitchens

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEMO_CONFIG = osp.join(ROOT, 'configs', 'mbcd', 'mbcd_epic_demo.py')
DEMO_DATA = 'data/epic_demo'  # the demo config's data_root


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = build_train_parser().parse_args([DEMO_CONFIG, *argv])
    if not osp.isdir(osp.join(DEMO_DATA, 'MM-SADA_Domain_Adaptation_Splits')):
        meta = generate_epic_kitchens(DEMO_DATA)
        print(f'wrote {DEMO_DATA} in {meta["seconds"]} s: {meta["counts"]}')
    train(setup_cfg(args))


if __name__ == '__main__':
    main()
