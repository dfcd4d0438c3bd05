# MBCD Table 4, row "GCC + EMA": gradient-consistency look-ahead on EMA.
_base_ = ['./table4_ema_epic_af.py']
model = dict(
    gradient_consistency=dict(type='GradientConsistencyLoss', alpha=1e-4))
