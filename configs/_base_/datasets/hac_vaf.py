# HAC (human / animal / cartoon), RGB + flow + audio, the same clip settings
# as epic_kitchens_vaf.py: RGB 32 frames interval 2, flow 8 frames interval 4,
# short side 256, random resized crop 224 (train) / centre crop 224 (test),
# flip 0.5 (x-flow negated), audio 10 s spectrogram (257 x 1004), batch 16.
# Videos are read at 24 fps; the audio window is the sampled RGB frames' span
# / 24 (flow frames' without RGB, the whole track for audio alone); see
# mbcd_mmaction/datasets/hac.py for the layout.
#
# Variables an inheriting config may set (read epic_kitchens_vaf.py's header
# for how `modalities` reaches the datasets):
#   modalities     subset of ('rgb', 'flow', 'audio')
#   protocol       'multi_source' (default) | 'single_source' | 'in_domain'
#   target_domain  'human' | 'animal' | 'cartoon' ('all' for single_source)
#   source_domain  single_source only
# `domains` is None in every dataset: apply_protocol fills it. A target domain
# is tested on all its videos (split 'all' = train + test CSVs), as in the
# paper.
dataset_type = 'HACDataset'
data_root = 'data/hac'
modalities = ('rgb', 'flow', 'audio')
meta_keys = ('domain_id', 'domain', 'uid')

train_pipeline = [
    dict(type='SampleModalityFrames', modality='rgb', clip_len=32,
         frame_interval=2),
    dict(type='LoadModalityFrames', modality='rgb'),
    dict(type='SampleModalityFrames', modality='flow', clip_len=8,
         frame_interval=4),
    dict(type='LoadModalityFrames', modality='flow'),
    # After the frame sampling: the window comes from the sampled frames.
    dict(type='LoadAudioSpectrogram', clip_seconds=10.0),
    dict(type='MultiModalResize', short_side=256),
    dict(type='MultiModalRandomResizedCrop', size=224),
    dict(type='MultiModalNormalize'),
    dict(type='MultiModalFlip', flip_ratio=0.5),
    dict(type='MultiModalFormatShape'),
    dict(type='PackActionInputs', collect_keys=modalities,
         meta_keys=meta_keys),
]
test_pipeline = [
    dict(type='SampleModalityFrames', modality='rgb', clip_len=32,
         frame_interval=2, test_mode=True),
    dict(type='LoadModalityFrames', modality='rgb'),
    dict(type='SampleModalityFrames', modality='flow', clip_len=8,
         frame_interval=4, test_mode=True),
    dict(type='LoadModalityFrames', modality='flow'),
    dict(type='LoadAudioSpectrogram', clip_seconds=10.0, test_mode=True),
    dict(type='MultiModalResize', short_side=256),
    dict(type='MultiModalCenterCrop', crop_size=224),
    dict(type='MultiModalNormalize'),
    dict(type='MultiModalFormatShape'),
    dict(type='PackActionInputs', collect_keys=modalities,
         meta_keys=meta_keys),
]

train_dataloader = dict(
    batch_size=16,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        domains=None,
        split='train',
        modalities=modalities,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=16,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        domains=None,
        split='test',
        modalities=modalities,
        pipeline=test_pipeline,
        test_mode=True))
test_dataloader = val_dataloader
