"""Tiny but real mmaction encoders for fast CPU tests, in the shipped
methods' model configs (the configs hold every hyperparameter)."""
import copy
import functools
import os.path as osp

NUM_CLASSES = 4


def slowfast_encoder(base=8):
    return dict(
        type='SlowFastEncoder', trainable_stages=1,
        backbone=dict(
            type='ResNet3dSlowFast', pretrained=None, resample_rate=4,
            speed_ratio=4, channel_ratio=4,
            slow_pathway=dict(
                type='resnet3d', depth=18, pretrained=None, lateral=True,
                base_channels=base, fusion_kernel=7, conv1_kernel=(1, 7, 7),
                conv1_stride_t=1, pool1_stride_t=1, inflate=(0, 0, 1, 1)),
            fast_pathway=dict(
                type='resnet3d', depth=18, pretrained=None, lateral=False,
                base_channels=base // 4, conv1_kernel=(5, 7, 7),
                conv1_stride_t=1, pool1_stride_t=1)))


def slowonly_encoder(base=8):
    return dict(
        type='ResNetEncoder', trainable_stages=1,
        backbone=dict(
            type='ResNet3dSlowOnly', depth=18, pretrained=None,
            in_channels=2, base_channels=base, lateral=False,
            conv1_kernel=(1, 7, 7), conv1_stride_t=1, pool1_stride_t=1,
            inflate=(0, 0, 1, 1), with_pool2=False))


def audio_encoder():
    return dict(type='ResNetEncoder', trainable_stages=1,
                backbone=dict(type='ResNet', depth=18, pretrained=None,
                              in_channels=1))


ENCODERS = dict(rgb=slowfast_encoder, flow=slowonly_encoder,
                audio=audio_encoder)
SHAPES = dict(rgb=(3, 8, 32, 32), flow=(2, 4, 32, 32), audio=(1, 32, 32))


#: recognizer type -> its model config in configs/_base_/models/
SHIPPED_MODELS = dict(ERM='erm', EMA='ema', MBCD='mbcd', RNA='rna',
                      SimMMDG='simmmdg', MOOSA='moosa', CMRF='cmrf')
ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@functools.lru_cache(maxsize=None)
def _shipped_model(recognizer):
    from mmengine.config import Config
    path = osp.join(ROOT, 'configs', '_base_', 'models',
                    f'{SHIPPED_MODELS[recognizer]}.py')
    model = Config.fromfile(path).model.to_dict()
    for key in ('encoders', 'modalities', 'num_classes'):
        model.pop(key, None)
    return model


def shipped_model(recognizer='ERM'):
    """The model config the shipped configs give ``recognizer``, without
    its encoders, modalities and class count."""
    return copy.deepcopy(_shipped_model(recognizer))


def recognizer_cfg(modalities=('rgb', 'flow', 'audio'), **kwargs):
    """A recognizer with the tiny encoders: the shipped model config of
    ``kwargs['type']`` (ERM's for ERM and for a test's own subclass), any
    argument overridden."""
    recognizer = kwargs.get('type', 'ERM')
    cfg = shipped_model(recognizer if recognizer in SHIPPED_MODELS else 'ERM')
    cfg.update(encoders={m: ENCODERS[m]() for m in ENCODERS},
               modalities=modalities, num_classes=NUM_CLASSES)
    cfg.update(copy.deepcopy(kwargs))
    return cfg


def mbcd_cfg(modalities=('rgb', 'flow', 'audio'), **overrides):
    """The shipped MBCD (adaptive dropout, look-ahead alpha 1e-4, EMA
    teacher, distillation) with the tiny encoders."""
    return recognizer_cfg(modalities, **dict(overrides, type='MBCD'))


def batch(n=4, modalities=('rgb', 'flow', 'audio'), seed=0):
    """A batch as the data preprocessor receives it."""
    import torch
    from mmaction.structures import ActionDataSample
    g = torch.Generator().manual_seed(seed)
    inputs = {m: [torch.randn(SHAPES[m], generator=g) for _ in range(n)]
              for m in modalities}
    labels = torch.randint(0, NUM_CLASSES, (n,), generator=g)
    samples = [ActionDataSample().set_gt_label(int(y)) for y in labels]
    return dict(inputs=inputs, data_samples=samples)


@functools.lru_cache(maxsize=None)
def _shipped_gmp():
    from mmengine.config import Config
    path = osp.join(ROOT, 'configs', '_base_', 'models', 'gmp_strategy.py')
    return Config.fromfile(path).gmp.to_dict()


def shipped_gmp(**overrides):
    """The shipped GMP strategy config (``gmp_strategy.py``), overridden."""
    return dict(copy.deepcopy(_shipped_gmp()), **overrides)


def gmp_cfg(modalities=('flow', 'audio'), source_domains=('D2', 'D3'),
            base=None, **gmp_overrides):
    """A recognizer with the shipped GMP (uni-modal CE weight 3, as in the
    paper)."""
    gmp = shipped_gmp(source_domains=None if source_domains is None else
                      list(source_domains))
    gmp.update(gmp_overrides)
    cfg = dict(base or recognizer_cfg(modalities))
    cfg.update(uni_loss_weight=3.0, gradient_modulation=gmp)
    return cfg


def with_domains(data, domains=('D2', 'D3')):
    """Sets each sample's ``domain`` metainfo, cycling through ``domains``."""
    for i, sample in enumerate(data['data_samples']):
        sample.set_metainfo(dict(domain=domains[i % len(domains)]))
    return data
