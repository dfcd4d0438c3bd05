# The EPIC-Kitchens clip pipelines, RGB + flow + audio (settings: the header
# of epic_kitchens_vaf.py, which uses them as its train_pipeline and
# test_pipeline). They carry their own names because a config that inherits
# an MMAction2 recipe takes this file as a second base next to the recipe
# (configs/erm/slowfast_r50_epic_va.py), and mmengine refuses two bases
# that define the same key: every recipe defines train_pipeline and
# test_pipeline. Transforms of a modality a dataset does not load are
# no-ops, and the runner sets PackActionInputs' collect_keys to the
# experiment's `modalities`, so they serve every modality combination.
modalities = ('rgb', 'flow', 'audio')
meta_keys = ('domain_id', 'domain', 'uid')

epic_train_pipeline = [
    dict(type='SampleModalityFrames', modality='rgb', clip_len=32,
         frame_interval=2),
    dict(type='LoadModalityFrames', modality='rgb'),
    dict(type='SampleModalityFrames', modality='flow', clip_len=8,
         frame_interval=4),
    dict(type='LoadModalityFrames', modality='flow'),
    dict(type='LoadAudioSpectrogram', clip_seconds=10.0),
    dict(type='MultiModalResize', short_side=256),
    dict(type='MultiModalRandomResizedCrop', size=224),
    dict(type='MultiModalNormalize'),
    # After normalisation: negating the x-flow is exact on centred floats.
    dict(type='MultiModalFlip', flip_ratio=0.5),
    dict(type='MultiModalFormatShape'),
    dict(type='PackActionInputs', collect_keys=modalities,
         meta_keys=meta_keys),
]
epic_test_pipeline = [
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
