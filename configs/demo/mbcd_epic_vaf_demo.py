# MBCD on the generated EPIC-Kitchens-layout data (no download): the same
# model, losses, schedule and protocol as configs/mbcd_epic_vaf.py, with
# encoders narrow enough to train on 2 CPU cores in minutes and no
# pretrained weights. Generate the data first:
#   python -m mbcd_mmaction.datasets.synthetic --root data/epic_demo
# (tools/demo.py does both).
_base_ = [
    '../_base_/models/mbcd.py', '../_base_/datasets/epic_kitchens_demo.py',
    '../_base_/schedules/adam_20e.py', '../_base_/mmdg_runtime.py'
]
target_domain = 'D1'
modalities = ('rgb', 'flow', 'audio')

model = dict(
    encoders=dict(
        rgb=dict(backbone=dict(
            pretrained=None, channel_ratio=4,
            slow_pathway=dict(depth=18, base_channels=8),
            fast_pathway=dict(depth=18, base_channels=2))),
        flow=dict(backbone=dict(pretrained=None, depth=18, base_channels=8)),
        audio=dict(backbone=dict(pretrained=None))))

# Random initial trunks learn more slowly than pretrained ones: a higher
# learning rate and fewer, shorter epochs.
optim_wrapper = dict(optimizer=dict(lr=1e-3))
train_cfg = dict(max_epochs=8)
default_hooks = dict(logger=dict(interval=4))
