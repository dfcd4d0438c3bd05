import os.path as osp
import sys

HERE = osp.dirname(osp.abspath(__file__))
for path in (HERE, osp.join(osp.dirname(HERE), 'apis')):
    if path not in sys.path:
        sys.path.insert(0, path)

import mbcd_mmaction.registration  # noqa: F401  (registers every component)
