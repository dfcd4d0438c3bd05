# Drop-in inheritance from an MMAction2 recipe: MMAction2's own SlowFast R50
# Kinetics-400 config keeps its backbone (ResNet3dSlowFast R50, tau 4,
# alpha 4, beta_inv 8) and its schedule (SGD lr 0.1, momentum 0.9, clip 40,
# linear warm-up 34 epochs + cosine to 256 epochs); the keys below replace
# what a multi-modal DG run needs (README: "Inheriting an MMAction2
# recipe"). EPIC-Kitchens video + audio, multi-source:
#   python tools/train.py configs/erm/slowfast_r50_epic_va.py \
#       --cfg-options target_domain=D2
# (or MMAction2's tools/train.py / `mim train mmaction` with this file: the
# runner applies the protocol).
# The EPIC-Kitchens pipelines come from a second base (its keys are named so
# as not to clash with the recipe's).
_base_ = [
    'mmaction::recognition/slowfast/'
    'slowfast_r50_8xb8-8x8x1-256e_kinetics400-rgb.py',
    '../_base_/datasets/epic_kitchens_pipelines.py'
]

custom_imports = dict(imports=['mbcd_mmaction.registration'], allow_failed_imports=False)
# Applies the protocol when it is built (also from MMAction2's tools),
# atomic checkpoints, mid-epoch resume.
runner_type = 'MMDGRunner'

# -- the experiment ----------------------------------------------------------
dataset_type = 'EpicKitchensDataset'
data_root = 'data/epic_kitchens'
target_domain = 'D1'
modalities = ('rgb', 'audio')
num_classes = 8

# -- model: the recipe's backbone becomes the RGB encoder ---------------------
# Replaced: `type` (Recognizer3D takes one input tensor; ERM, the plain
# multi-modal recognizer, takes one per modality), `cls_head` (SlowFastHead
# -> per-modality and fused heads, built by the recognizer), `data_preprocessor` (one per
# modality; the pipeline normalises). Kept: the backbone, as is.
model = dict(
    _delete_=True,
    type='ERM',
    encoders=dict(
        rgb=dict(
            type='SlowFastEncoder',
            trainable_stages=1,
            # the recipe's own Kinetics-400 weights (MMAction2 model zoo),
            # loaded strictly into the backbone
            pretrained=(
                'https://download.openmmlab.com/mmaction/v1.0/'
                'recognition/slowfast/slowfast_r50_8xb8-8x8x1-256e_'
                'kinetics400-rgb/slowfast_r50_8xb8-8x8x1-256e_'
                'kinetics400-rgb_20220818-1cb6dfc8.pth'),
            pretrained_prefix='backbone.',
            backbone={{_base_.model.backbone}}),
        audio=dict(
            type='ResNetEncoder',
            trainable_stages=1,
            # tools/convert_vggsound_resnet18.py
            pretrained='checkpoints/vggsound_resnet18_mmaction.pth',
            backbone=dict(
                type='ResNet', depth=18, in_channels=1, pretrained=None,
                torchvision_pretrain=False, norm_eval=False))),
    modalities=modalities,
    num_classes=num_classes,
    uni_head=dict(type='MLPClsHead', hidden_channels=512, dropout_ratio=0.5),
    fused_head=dict(type='MLPClsHead', hidden_channels=512,
                    dropout_ratio=0.5),
    fusion=dict(type='ConcatFusion'),
    feature_norm=True,
    uni_loss_weight=1.0)

# -- data: the recipe's Kinetics VideoDataset -> EPIC-Kitchens domains ---------
# Replaced entirely (_delete_): VideoDataset's ann_file/data_prefix are not
# this dataset's arguments, and the pipelines load several modalities. The
# EPIC pipelines of every EPIC experiment
# (configs/_base_/datasets/epic_kitchens_pipelines.py) sample RGB as the
# recipe's 8x8x1 does (32 frames, interval 2, 224 px); their flow steps do
# nothing without flow in `modalities`, and the runner sets
# PackActionInputs' collect_keys to `modalities`.
train_pipeline = {{_base_.epic_train_pipeline}}
test_pipeline = {{_base_.epic_test_pipeline}}
# `domains=None`: the runner fills them from the protocol (target_domain).
_dataset = dict(type=dataset_type, data_root=data_root, domains=None,
                modalities=modalities)
train_dataloader = dict(
    _delete_=True, batch_size=8, num_workers=8, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(_dataset, split='train', pipeline=train_pipeline))
val_dataloader = dict(
    _delete_=True, batch_size=8, num_workers=8, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(_dataset, split='test', pipeline=test_pipeline,
                 test_mode=True))
test_dataloader = val_dataloader
# Replaced: AccMetric with the per-modality scores.
val_evaluator = dict(type='AccMetric',
                     metric_options=dict(top_k_accuracy=dict(topk=(1, ))))
test_evaluator = val_evaluator

# -- model selection (the protocol) and the project's hooks --------------------
# Replaced: validate every epoch (the recipe: every 5) and keep the best
# source-validation checkpoint, which tools/train.py tests on the target.
train_cfg = dict(val_interval=1)
default_hooks = dict(
    checkpoint=dict(type='SafeCheckpointHook', interval=1, max_keep_ckpts=1,
                    save_best='acc/fused_top1', rule='greater'),
    random_state=dict(type='RandomStateHook'),
    non_finite_loss=dict(type='NonFiniteLossHook'),
    eval_log=dict(type='EvalLogHook'),
    preemption=dict(type='PreemptionCheckpointHook'))
# Only the encoders' top stages and the heads train.
optim_wrapper = dict(constructor='TrainableParamsOptimWrapperConstructor')
