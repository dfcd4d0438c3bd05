# Small random-init encoders for the generated demo data (configs/demo):
# `model = dict(encoders={{_base_.demo_encoders}})` on top of a method.
demo_encoders = dict(
    rgb=dict(pretrained=None, backbone=dict(
        channel_ratio=4,
        slow_pathway=dict(depth=18, base_channels=8),
        fast_pathway=dict(depth=18, base_channels=2))),
    flow=dict(pretrained=None, backbone=dict(depth=18, base_channels=8)),
    audio=dict(pretrained=None))
