# GMP (Li et al., AAAI 2026; docs/methods.md): ERM's encoders, norms and
# heads plus a gradient-level strategy. Per modality: its own head (CE
# weight 3.0, the recognizer's uni_loss_weight) and a domain branch
# (gradient reversal 0.3 -> Linear-ReLU-Dropout 512 -> one discriminator
# shared by the modalities, CE on the source-domain index, weight 0.5).
# The encoders get the fused CE gradient plus the modulated (k, p) and
# conflict-projected task gradients; heads, projections and the
# discriminator their ordinary gradients. `source_domains=None` is filled
# by apply_protocol with the training domains.
#
# GMP composes with any recognizer config: add `uni_loss_weight=3.0` and
# gmp_strategy.py's dict (see configs/mbcd/mbcd_gmp_epic.py).
_base_ = ['./erm.py', './gmp_strategy.py']

model = dict(uni_loss_weight=3.0, gradient_modulation={{_base_.gmp}})
