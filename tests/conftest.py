import pytest
from mmengine.registry import DefaultScope

import mbcd_mmaction  # noqa: F401  (compat fixes, registration)


def pytest_configure(config):
    config.addinivalue_line(
        'markers', 'slow: longer tests (real runners, paper-size models); '
        "deselect with -m 'not slow'")


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
