"""Multi-modal (RGB, flow, audio) transforms, registered in mmaction's
``TRANSFORMS``."""
from .loading import (LoadAudioSpectrogram, LoadModalityFrames,
                      SampleModalityFrames, audio_span, is_active,
                      log_spectrogram)
from .processing import (IMAGENET_MEAN, IMAGENET_STD, MultiModalCenterCrop,
                         MultiModalFlip, MultiModalFormatShape,
                         MultiModalNormalize, MultiModalRandomResizedCrop,
                         MultiModalResize, resize_clip)

__all__ = [
    'SampleModalityFrames', 'LoadModalityFrames', 'LoadAudioSpectrogram',
    'MultiModalResize', 'MultiModalRandomResizedCrop', 'MultiModalCenterCrop',
    'MultiModalNormalize', 'MultiModalFlip', 'MultiModalFormatShape',
    'audio_span', 'is_active', 'log_spectrogram', 'resize_clip',
    'IMAGENET_MEAN',
    'IMAGENET_STD'
]
