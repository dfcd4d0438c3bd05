"""Datasets, transforms, the synthetic EPIC generator and protocol helpers.

Importing registers :class:`EpicKitchensDataset`, :class:`HACDataset`,
:class:`MultiModalDGDataset` and the transforms into
mmaction's ``DATASETS`` / ``TRANSFORMS`` registries.
"""
from mbcd_mmaction import compat  # noqa: F401  (before mmaction imports)
from . import transforms  # noqa: F401
from .epic_kitchens import (ALL_DOMAINS, ALL_MODALITIES, CLASSES,
                            DOMAIN_PARTICIPANTS, EpicKitchensDataset)
from .hac import HAC_CLASSES, HAC_DOMAINS, HACDataset
from .multimodal_dg import MultiModalDGDataset
from .protocols import (PROTOCOLS, apply_experiment, apply_protocol,
                        apply_top_level, protocol_domains)
from .transforms import *  # noqa: F401,F403
from .trunk_cache import (CachedTrunkDataset, CachedViewSampler,
                          ReplayedViewDataset, TrunkCacheError,
                          apply_trunk_cache)

__all__ = [
    'EpicKitchensDataset', 'ALL_DOMAINS', 'ALL_MODALITIES', 'CLASSES',
    'DOMAIN_PARTICIPANTS', 'apply_protocol', 'apply_experiment',
    'apply_top_level', 'protocol_domains',
    'HACDataset', 'HAC_DOMAINS', 'HAC_CLASSES', 'MultiModalDGDataset',
    'PROTOCOLS', 'CachedTrunkDataset', 'CachedViewSampler',
    'ReplayedViewDataset', 'TrunkCacheError', 'apply_trunk_cache'
]
