import os.path as osp
import sys

import pytest

HERE = osp.dirname(osp.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import mbcd_mmaction.registration  # noqa: F401  (registers every component)
from apis_testutils import write_tiny_config  # noqa: E402


@pytest.fixture
def tiny_config(tmp_path):
    return write_tiny_config(tmp_path)
