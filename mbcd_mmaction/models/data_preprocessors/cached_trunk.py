"""Data preprocessor for batches read from a frozen-trunk cache."""
from typing import Dict

import torch
from mmaction.registry import MODELS
from mmengine.model import BaseDataPreprocessor


class TrunkOutputs(dict):
    """``{modality: trunk output}`` that already went through the frozen
    trunks (a cache); ``extract_trunk`` passes it through unchanged."""


@MODELS.register_module()
class CachedTrunkPreprocessor(BaseDataPreprocessor):
    """Stacks cached trunk outputs per modality (and per part, e.g.
    SlowFast's (slow, fast)), casts them to float32 (the cache may store
    fp16) and moves them to the model's device, as :class:`TrunkOutputs`.
    """

    def forward(self, data: Dict, training: bool = False) -> Dict:
        data = self.cast_data(data)
        outs = TrunkOutputs()
        for m, batch in data['inputs'].items():
            # pseudo_collate turns a list of (slow, fast) tuples into
            # [slows, fasts] and a list of tensors stays a list.
            if torch.is_tensor(batch[0]):
                outs[m] = torch.stack(list(batch)).float()
            else:
                outs[m] = tuple(torch.stack(list(p)).float() for p in batch)
        return dict(inputs=outs, data_samples=data['data_samples'])
