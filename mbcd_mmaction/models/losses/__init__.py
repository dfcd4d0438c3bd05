from .distillation import CollaborativeDistillationLoss
from .entropy import EntropyMinimisationLoss, EntropyWeightedCELoss
from .functional import MODALITY_ORDER, modality_pairs, unit_l2_distance
from .gradient_consistency import GradientConsistencyLoss
from .mixup_distillation import MixupDistillationLoss, mix_feature
from .modality_weighted_ce import ModalityWeightedCELoss
from .relative_norm import RelativeNormLoss
from .shared_specific import SharedSpecificDistanceLoss, split_shared_specific
from .supcon import SupConLoss

__all__ = [
    'CollaborativeDistillationLoss', 'EntropyMinimisationLoss',
    'EntropyWeightedCELoss', 'GradientConsistencyLoss', 'MODALITY_ORDER',
    'MixupDistillationLoss', 'ModalityWeightedCELoss', 'RelativeNormLoss',
    'SharedSpecificDistanceLoss', 'SupConLoss', 'mix_feature',
    'modality_pairs', 'split_shared_specific', 'unit_l2_distance'
]
