import itertools
import logging
import os

import pytest
import torch
from mmengine.registry import DefaultScope

import mbcd_mmaction.registration  # noqa: F401  (registers every component)

if os.environ.get('PYTEST_XDIST_WORKER'):
    # `pytest -n N`: N test processes share the cores, so each computes on
    # one thread, and so do the processes its tests start (oversubscribed
    # OpenMP threads spin and slow every process down).
    os.environ['OMP_NUM_THREADS'] = '1'
    torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def mmaction_default_scope():
    """Every test starts in the 'mmaction' scope, as configs do, and leaves
    no scope behind: a Runner built by one test (which registers its own
    scope, e.g. 'mmengine') must not change how the next test's
    ``MODELS.build`` resolves names."""
    with DefaultScope.overwrite_default_scope('mmaction'):
        yield


def pytest_configure(config):
    config.addinivalue_line(
        'markers', 'slow: takes more than ~10 s (deselect with '
        "-m 'not slow')")


def pytest_collection_modifyitems(session, config, items):
    """With `pytest -n N`, slow tests first (otherwise in collection order):
    the longest runs start at once instead of ending the suite on one busy
    worker while the others idle. A serial run keeps the file order (a
    file's module fixtures are then built once)."""
    if os.environ.get('PYTEST_XDIST_WORKER'):
        items.sort(key=lambda item: item.get_closest_marker('slow') is None)


_LOGGER_NAMES = (f'pytest-{i}' for i in itertools.count())


@pytest.fixture(autouse=True)
def no_closed_log_file_left_current():
    """A finished Runner leaves its logger the current MMLogger with its
    log file closed; mmengine's ``init_weights`` then writes to the closed
    file in whichever test comes next. A fresh logger becomes current."""
    yield
    from mmengine.logging import MMLogger
    if MMLogger._instance_dict:
        logger = MMLogger.get_current_instance()
        if any(isinstance(h, logging.FileHandler) and h.stream is None
               for h in logger.handlers):
            MMLogger.get_instance(next(_LOGGER_NAMES))
