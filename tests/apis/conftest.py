import os.path as osp
import sys

import pytest

HERE = osp.dirname(osp.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import mbcd_mmaction  # noqa: E402,F401  (compat before mmaction imports)
from apis_testutils import write_tiny_config  # noqa: E402


@pytest.fixture
def tiny_config(tmp_path):
    return write_tiny_config(tmp_path)
