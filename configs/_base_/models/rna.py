# RNA-Net (Planamente et al., WACV 2022; docs/methods.md): fused CE
# plus the relative norm alignment loss (v/f, v/a, f/a ratios of the batch
# mean feature norms), weight 1. No official code exists; this follows the
# only implementation (MMDG-Bench's), which has no per-split settings.
_base_ = ['./simmmdg_family.py']

baseline = 'rna'
model = dict(
    type='RNA',
    relative_norm=dict(type='RelativeNormLoss', loss_weight=1.0))
