# EPIC-Kitchens (MM-SADA splits), RGB + flow + audio, SimMMDG / MBCD settings:
# RGB 32 frames interval 2, flow 8 frames interval 4 (in 30 fps flow frames),
# short side 256, random resized crop 224 (train) / centre crop 224 (test),
# flip 0.5 (RGB and flow together, x-flow negated), audio 10 s spectrogram
# (257 x 1004), batch 16. See mbcd_mmaction/datasets/epic_kitchens.py for the
# on-disk layouts.
#
# Variables an inheriting config may set:
#   modalities     subset of ('rgb', 'flow', 'audio'), e.g. ('rgb', 'audio').
#                  mmengine resolves this file's variables when it is parsed,
#                  so the dataset dicts below keep this file's value; the
#                  protocol helper mbcd_mmaction.datasets.apply_protocol(cfg)
#                  (run by the training tools) copies the top-level
#                  `modalities` into every dataset's `modalities` and every
#                  PackActionInputs' `collect_keys`. Transforms of a modality
#                  a dataset does not load are no-ops, so the pipelines need
#                  no change.
#   target_domain  'D1' | 'D2' | 'D3' (required; set by the experiment config)
#   protocol       'multi_source' (default)
# `domains` is None in every dataset: apply_protocol fills it (train: source
# train splits, val: source test splits, test: target test split).
# Evaluators are left to the model configs.
_base_ = ['./epic_kitchens_pipelines.py']

dataset_type = 'EpicKitchensDataset'
data_root = 'data/epic_kitchens'
layout = 'frames'  # or 'clips' (the MMDG-Bench port's mp4-per-clip layout)
modalities = {{_base_.modalities}}

# The pipelines (and `meta_keys`) are in epic_kitchens_pipelines.py.
train_pipeline = {{_base_.epic_train_pipeline}}
test_pipeline = {{_base_.epic_test_pipeline}}

train_dataloader = dict(
    batch_size=16,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        layout=layout,
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
        layout=layout,
        domains=None,
        split='test',
        modalities=modalities,
        pipeline=test_pipeline,
        test_mode=True))
test_dataloader = val_dataloader
