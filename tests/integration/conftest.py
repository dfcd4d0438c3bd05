import pytest

from mbcd_mmaction.datasets.synthetic import generate_epic_kitchens


@pytest.fixture(scope='session')
def tiny_epic_root(tmp_path_factory):
    """Small generated EPIC-layout data: 16 train / 8 test clips a domain."""
    root = tmp_path_factory.mktemp('epic') / 'epic_tiny'
    generate_epic_kitchens(str(root),
                           clips_per_split={'train': 16, 'test': 8})
    return str(root)
