"""Data preparation: raw videos -> HAC layout, EPIC-Kitchens download ->
frames layout, dataset checks. Thin CLIs in ``tools/data/``."""
from .check import (Problem, check_dataset_cfg, check_samples, epic_config,
                    hac_config)
from .epic import prepare_epic_kitchens
from .hac_layout import discover_videos, prepare_hac_layout
from .media import (FLOW_BOUND, compute_flow, dequantize_flow,
                    flow_algorithms, quantize_flow, read_audio_track)

__all__ = [
    'prepare_hac_layout', 'discover_videos', 'prepare_epic_kitchens',
    'check_dataset_cfg', 'check_samples', 'Problem', 'hac_config',
    'epic_config', 'read_audio_track', 'compute_flow', 'quantize_flow',
    'dequantize_flow', 'flow_algorithms', 'FLOW_BOUND'
]
