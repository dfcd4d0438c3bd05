"""Shared helpers of the apis tests: a tiny real mmengine config."""
import os.path as osp

HERE = osp.dirname(osp.abspath(__file__))

TINY_CONFIG = '''
custom_imports = dict(imports=['mbcd_mmaction.registration', 'tiny_components'],
                      allow_failed_imports=False)
model = dict(type='TinyNet')
train_dataloader = dict(
    batch_size=4, num_workers=0, collate_fn=dict(type='default_collate'),
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='TinyDataset', length=16, seed=0))
val_dataloader = dict(
    batch_size=4, num_workers=0, collate_fn=dict(type='default_collate'),
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='TinyDataset', length=8, seed=1))
test_dataloader = dict(
    batch_size=4, num_workers=0, collate_fn=dict(type='default_collate'),
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='TinyDataset', length=8, seed=2))
val_evaluator = dict(type='ScheduledMetric', schedule={schedule})
test_evaluator = dict(type='TinyAccuracy')
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs={max_epochs},
                 val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.5))
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=1, {save_best}
                    max_keep_ckpts=-1),
    logger=dict(type='LoggerHook', interval=1))
custom_hooks = [dict(type='RecordWeightsHook')]
target_domain = None
randomness = dict(seed=0)
log_level = 'WARNING'
'''


def write_tiny_config(directory, name='tiny_cfg', schedule=(0.9, 0.5, 0.7),
                      max_epochs=3, save_best="save_best='acc', rule='greater',"):
    path = osp.join(str(directory), name + '.py')
    with open(path, 'w') as f:
        f.write(TINY_CONFIG.format(schedule=list(schedule),
                                   max_epochs=max_epochs,
                                   save_best=save_best))
    return path
