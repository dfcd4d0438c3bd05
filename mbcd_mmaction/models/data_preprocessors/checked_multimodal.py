"""mmaction's multi-modal data preprocessor with a readable modality check."""
from typing import Dict

from mmaction.models import MultiModalDataPreprocessor
from mmaction.registry import MODELS


@MODELS.register_module()
class CheckedMultiModalDataPreprocessor(MultiModalDataPreprocessor):
    """Batches each modality like ``MultiModalDataPreprocessor``, after
    checking that the batch holds exactly the model's modalities (mmaction
    fails later with a bare ``KeyError`` on an extra one, and a missing one
    surfaces deep in the model)."""

    def forward(self, data: Dict, training: bool = False) -> Dict:
        given = set(data['inputs'])
        expected = set(self.preprocessors)
        if given != expected:
            raise KeyError(
                f'the batch holds modalities {sorted(given)} but the model '
                f'is built for {sorted(expected)}: the dataset `modalities` '
                '(and PackActionInputs collect_keys) must equal '
                '`model.modalities`; set the top-level `modalities` of the '
                'config, which the training tools copy into both')
        return super().forward(data, training)
