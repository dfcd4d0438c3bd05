# Small random-init encoders for the generated demo data (the `*_demo.py` configs):
# `model = dict(encoders={{_base_.demo_encoders}})` on top of a method.
# The frozen trunks stay random, so mmaction's zero-initialised last BN of
# each 3D residual block (a good start for training, but it makes a frozen
# random trunk a stack of identity blocks that carries little but the stem;
# the demo test's RGB stayed at chance) is turned off.
demo_encoders = dict(
    rgb=dict(pretrained=None, backbone=dict(
        channel_ratio=4,
        slow_pathway=dict(depth=18, base_channels=8,
                          zero_init_residual=False),
        fast_pathway=dict(depth=18, base_channels=2,
                          zero_init_residual=False))),
    flow=dict(pretrained=None, backbone=dict(depth=18, base_channels=8,
                                             zero_init_residual=False)),
    audio=dict(pretrained=None))
