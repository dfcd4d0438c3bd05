# Small random-init encoders for the generated demo data (the `*_demo.py` configs):
# `model = dict(encoders={{_base_.demo_encoders}})` on top of a method.
# The frozen trunks stay random, so mmaction's zero-initialised last BN of
# each 3D residual block (a good start for training, but it makes a frozen
# random trunk a stack of identity blocks that carries little but the stem;
# the demo test's RGB stayed at chance) is turned off. The audio encoder is
# a ResNet-18 of width 16 (the paper's is width 64, 11 M parameters, and
# was 3/4 of a demo iteration): mmaction's 2D ResNet has no width option,
# so it is ResNet3d with temporal kernels of 1 (ResNetEncoder gives the
# spectrogram a time axis of length 1), which is a 2D ResNet.
demo_encoders = dict(
    rgb=dict(pretrained=None, backbone=dict(
        channel_ratio=4,
        slow_pathway=dict(depth=18, base_channels=8,
                          zero_init_residual=False),
        fast_pathway=dict(depth=18, base_channels=2,
                          zero_init_residual=False))),
    flow=dict(pretrained=None, backbone=dict(depth=18, base_channels=8,
                                             zero_init_residual=False)),
    audio=dict(pretrained=None, backbone=dict(
        _delete_=True, type='ResNet3d', depth=18, in_channels=1,
        base_channels=16, pretrained=None, pretrained2d=False,
        inflate=(0, 0, 0, 0), conv1_kernel=(1, 7, 7), conv1_stride_t=1,
        pool1_stride_t=1, with_pool2=False, norm_eval=False,
        zero_init_residual=False)))
