# The paper's encoders (docs/methods.md), keyed by modality.
# Pretrained weights as in MMAction2's model zoo; a path or URL can be
# replaced with --cfg-options model.encoders.rgb.pretrained=FILE. They are
# loaded strictly when the runner initialises the model: a missing file or
# a key that does not match is an error naming the file, never a random
# trunk. Only layer4 (trainable_stages=1) trains.
rgb_encoder = dict(
    type='SlowFastEncoder',
    trainable_stages=1,
    # MMAction2 zoo: slowfast_r101_8xb8-8x8x1-256e_kinetics400-rgb. A zoo
    # file is a whole recognizer (keys backbone.*, cls_head.*): its
    # backbone.* keys are loaded into the backbone, cls_head.* is left out.
    pretrained=(
        'https://download.openmmlab.com/mmaction/v1.0/recognition/'
        'slowfast/slowfast_r101_8xb8-8x8x1-256e_kinetics400-rgb/'
        'slowfast_r101_8xb8-8x8x1-256e_kinetics400-rgb_'
        '20220818-9c0e09bd.pth'),
    pretrained_prefix='backbone.',
    backbone=dict(
        type='ResNet3dSlowFast',
        pretrained=None,
        resample_rate=4,  # 32 input frames -> 8 slow frames
        speed_ratio=4,  # alpha
        channel_ratio=8,
        slow_pathway=dict(
            type='resnet3d', depth=101, pretrained=None, lateral=True,
            fusion_kernel=7, conv1_kernel=(1, 7, 7), dilations=(1, 1, 1, 1),
            conv1_stride_t=1, pool1_stride_t=1, inflate=(0, 0, 1, 1),
            norm_eval=False),
        fast_pathway=dict(
            type='resnet3d', depth=101, pretrained=None, lateral=False,
            base_channels=8, conv1_kernel=(5, 7, 7), conv1_stride_t=1,
            pool1_stride_t=1, norm_eval=False)))

flow_encoder = dict(
    type='ResNetEncoder',
    trainable_stages=1,
    # MMAction2 zoo (0.x): slowonly_r50_8x8x1_256e_kinetics400_flow, a whole
    # recognizer checkpoint like the RGB one.
    pretrained=(
        'https://download.openmmlab.com/mmaction/recognition/slowonly/'
        'slowonly_r50_8x8x1_256e_kinetics400_flow/'
        'slowonly_r50_8x8x1_256e_kinetics400_flow_20200704-6b384243.pth'),
    pretrained_prefix='backbone.',
    backbone=dict(
        type='ResNet3dSlowOnly',
        depth=50,
        pretrained=None,
        pretrained2d=False,
        in_channels=2,
        lateral=False,
        conv1_kernel=(1, 7, 7),
        conv1_stride_t=1,
        pool1_stride_t=1,
        inflate=(0, 0, 1, 1),
        with_pool2=False,
        norm_eval=False))

audio_encoder = dict(
    type='ResNetEncoder',
    trainable_stages=1,
    # VGGSound ResNet-18 converted by tools/convert_vggsound_resnet18.py
    # (bare backbone keys).
    pretrained='checkpoints/vggsound_resnet18_mmaction.pth',
    backbone=dict(
        type='ResNet',
        depth=18,
        in_channels=1,
        pretrained=None,
        torchvision_pretrain=False,
        norm_eval=False))
