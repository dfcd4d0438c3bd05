# The synthetic HAC-layout data of mbcd_mmaction/datasets/synthetic.py
# (`python -m mbcd_mmaction.datasets.synthetic --dataset hac --root
# data/hac_demo`): 64x36 px, 24 fps videos of 1.5-1.8 s. Same structure and
# variables as hac_vaf.py: RGB 8 frames interval 2, flow 4 frames interval 4,
# short side 36, crop 32, audio 1 s (257 x 98), batch 16, 2 workers.
_base_ = ['./hac_vaf.py']

data_root = 'data/hac_demo'
modalities = ('rgb', 'flow', 'audio')
meta_keys = ('domain_id', 'domain', 'uid')

train_pipeline = [
    dict(type='SampleModalityFrames', modality='rgb', clip_len=8,
         frame_interval=2),
    dict(type='LoadModalityFrames', modality='rgb'),
    dict(type='SampleModalityFrames', modality='flow', clip_len=4,
         frame_interval=4),
    dict(type='LoadModalityFrames', modality='flow'),
    dict(type='LoadAudioSpectrogram', clip_seconds=1.0),
    dict(type='MultiModalResize', short_side=36),
    dict(type='MultiModalRandomResizedCrop', size=32, area_range=(0.4, 1.0)),
    dict(type='MultiModalNormalize'),
    dict(type='MultiModalFlip', flip_ratio=0.5),
    dict(type='MultiModalFormatShape'),
    dict(type='PackActionInputs', collect_keys=modalities,
         meta_keys=meta_keys),
]
test_pipeline = [
    dict(type='SampleModalityFrames', modality='rgb', clip_len=8,
         frame_interval=2, test_mode=True),
    dict(type='LoadModalityFrames', modality='rgb'),
    dict(type='SampleModalityFrames', modality='flow', clip_len=4,
         frame_interval=4, test_mode=True),
    dict(type='LoadModalityFrames', modality='flow'),
    dict(type='LoadAudioSpectrogram', clip_seconds=1.0, test_mode=True),
    dict(type='MultiModalResize', short_side=36),
    dict(type='MultiModalCenterCrop', crop_size=32),
    dict(type='MultiModalNormalize'),
    dict(type='MultiModalFormatShape'),
    dict(type='PackActionInputs', collect_keys=modalities,
         meta_keys=meta_keys),
]

train_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=False,
    dataset=dict(data_root=data_root, modalities=modalities,
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=False,
    dataset=dict(data_root=data_root, modalities=modalities,
                 pipeline=test_pipeline))
test_dataloader = val_dataloader
