"""Spatial transforms applied jointly to RGB and optical flow.

RGB and flow of one clip must see the same crop and the same flip, or flow no
longer describes the motion in the RGB frames. The transforms here draw one
random decision per sample and apply it to every key in ``keys`` that the
sample loads (see :func:`~mbcd_mmaction.datasets.transforms.loading.is_active`).
Crop boxes are drawn on the first active key and applied to the others in
*relative* coordinates, so modalities stored at different resolutions stay
aligned.

Arrays are T x H x W x C (uint8 after loading, float32 after
:class:`MultiModalNormalize`) until :class:`MultiModalFormatShape` makes
them C x T x H x W.
"""
import random  # noqa: F401  (mmaction's get_crop_bbox draws with it)
from typing import Dict, Sequence, Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from mmaction.datasets.transforms import RandomResizedCrop
from mmaction.registry import TRANSFORMS

from .loading import is_active

# ImageNet statistics on the 0..255 scale (RGB order).
IMAGENET_MEAN = (123.675, 116.28, 103.53)
IMAGENET_STD = (58.395, 57.12, 57.375)


def resize_clip(clip: np.ndarray, size_hw: Tuple[int, int]) -> np.ndarray:
    """Bilinear resize of every frame of a T x H x W x C clip.

    cv2 resizes up to 512 channels at once, so frames are stacked along the
    channel axis to resize the clip in one call.
    """
    t, h, w, c = clip.shape
    out_h, out_w = int(size_hw[0]), int(size_hw[1])
    if (h, w) == (out_h, out_w):
        return clip
    if t * c <= 512:
        stacked = clip.transpose(1, 2, 0, 3).reshape(h, w, t * c)
        out = cv2.resize(stacked, (out_w, out_h),
                         interpolation=cv2.INTER_LINEAR)
        return np.ascontiguousarray(
            out.reshape(out_h, out_w, t, c).transpose(2, 0, 1, 3))
    return np.stack([
        cv2.resize(f, (out_w, out_h), interpolation=cv2.INTER_LINEAR
                   ).reshape(out_h, out_w, c) for f in clip])


class _JointTransform(BaseTransform):
    """Base: operate on the active keys among ``keys``."""

    def __init__(self, keys: Sequence[str] = ('rgb', 'flow')):
        self.keys = tuple(keys)

    def active_keys(self, results: Dict):
        keys = [k for k in self.keys if is_active(results, k)]
        for k in keys:
            if k not in results:
                raise KeyError(
                    f'{self.__class__.__name__}: modality {k!r} is loaded '
                    f'for uid={results.get("uid")!r} but results[{k!r}] is '
                    'missing; put the loading transforms first.')
            if np.ndim(results[k]) != 4:
                raise ValueError(
                    f'{self.__class__.__name__}: results[{k!r}] has shape '
                    f'{np.shape(results[k])}, expected T x H x W x C.')
        return keys

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(keys={self.keys})'


@TRANSFORMS.register_module()
class MultiModalResize(_JointTransform):
    """Resize every frame so its short side is ``short_side`` (keep ratio).

    Args:
        short_side (int): Target length of the shorter side.
        keys (Sequence[str]): Defaults to ('rgb', 'flow').
    """

    def __init__(self, short_side: int, keys=('rgb', 'flow')):
        super().__init__(keys)
        self.short_side = short_side

    def transform(self, results: Dict) -> Dict:
        for k in self.active_keys(results):
            _, h, w, _ = results[k].shape
            scale = self.short_side / min(h, w)
            new_hw = (max(int(round(h * scale)), 1),
                      max(int(round(w * scale)), 1))
            results[k] = resize_clip(results[k], new_hw)
            results[f'{k}_img_shape'] = new_hw
        return results


def _crop_relative(clip: np.ndarray, box, size: int) -> np.ndarray:
    """Crop ``clip`` at relative ``box`` (x0, y0, x1, y1 in [0, 1]), then
    resize the crop to ``size`` x ``size``."""
    _, h, w, _ = clip.shape
    x0 = int(round(box[0] * w))
    y0 = int(round(box[1] * h))
    x1 = max(int(round(box[2] * w)), x0 + 1)
    y1 = max(int(round(box[3] * h)), y0 + 1)
    return resize_clip(clip[:, y0:y1, x0:x1], (size, size))


@TRANSFORMS.register_module()
class MultiModalRandomResizedCrop(_JointTransform):
    """Inception-style random crop, the same relative box for all keys,
    each crop resized to ``size`` x ``size``.

    The box is drawn by mmaction's ``RandomResizedCrop.get_crop_bbox`` on the
    first active key.

    Args:
        size (int): Output side. Defaults to 224.
        area_range (tuple[float]): Defaults to (0.08, 1.0).
        aspect_ratio_range (tuple[float]): Defaults to (3 / 4, 4 / 3).
        keys (Sequence[str]): Defaults to ('rgb', 'flow').
    """

    def __init__(self, size: int = 224, area_range=(0.08, 1.0),
                 aspect_ratio_range=(3 / 4, 4 / 3), keys=('rgb', 'flow')):
        super().__init__(keys)
        self.size = size
        self.area_range = tuple(area_range)
        self.aspect_ratio_range = tuple(aspect_ratio_range)

    def transform(self, results: Dict) -> Dict:
        keys = self.active_keys(results)
        if not keys:
            return results
        _, h, w, _ = results[keys[0]].shape
        x0, y0, x1, y1 = RandomResizedCrop.get_crop_bbox(
            (h, w), self.area_range, self.aspect_ratio_range)
        box = (x0 / w, y0 / h, x1 / w, y1 / h)
        for k in keys:
            results[k] = _crop_relative(results[k], box, self.size)
            results[f'{k}_img_shape'] = (self.size, self.size)
        results['crop_box_rel'] = box
        return results


@TRANSFORMS.register_module()
class MultiModalCenterCrop(_JointTransform):
    """Centre crop of ``crop_size`` on the first active key; the same
    relative box on the others (resized to ``crop_size`` if their
    resolution differs).

    Args:
        crop_size (int): Output side. Defaults to 224.
        keys (Sequence[str]): Defaults to ('rgb', 'flow').
    """

    def __init__(self, crop_size: int = 224, keys=('rgb', 'flow')):
        super().__init__(keys)
        self.crop_size = crop_size

    def transform(self, results: Dict) -> Dict:
        keys = self.active_keys(results)
        if not keys:
            return results
        _, h, w, _ = results[keys[0]].shape
        if min(h, w) < self.crop_size:
            raise ValueError(
                f'MultiModalCenterCrop: {keys[0]} frames are {h}x{w}, smaller'
                f' than crop_size={self.crop_size} (uid='
                f'{results.get("uid")!r}); resize first.')
        x0 = (w - self.crop_size) // 2
        y0 = (h - self.crop_size) // 2
        box = (x0 / w, y0 / h, (x0 + self.crop_size) / w,
               (y0 + self.crop_size) / h)
        for k in keys:
            results[k] = _crop_relative(results[k], box, self.crop_size)
            results[f'{k}_img_shape'] = (self.crop_size, self.crop_size)
        results['crop_box_rel'] = box
        return results


@TRANSFORMS.register_module()
class MultiModalNormalize(_JointTransform):
    """uint8 -> float32: RGB ``(x - mean) / std`` per channel (ImageNet, on
    the 0..255 scale), flow ``(x - flow_mean) / flow_std`` (128 / 128).

    Args:
        rgb_mean (Sequence[float]): Defaults to ImageNet's.
        rgb_std (Sequence[float]): Defaults to ImageNet's.
        flow_mean (float): Defaults to 128.
        flow_std (float): Defaults to 128.
        keys (Sequence[str]): Defaults to ('rgb', 'flow').
    """

    def __init__(self, rgb_mean=IMAGENET_MEAN, rgb_std=IMAGENET_STD,
                 flow_mean: float = 128.0, flow_std: float = 128.0,
                 keys=('rgb', 'flow')):
        super().__init__(keys)
        self.stats = dict(
            rgb=(np.asarray(rgb_mean, np.float32),
                 np.asarray(rgb_std, np.float32)),
            flow=(np.float32(flow_mean), np.float32(flow_std)))

    def transform(self, results: Dict) -> Dict:
        for k in self.active_keys(results):
            mean, std = self.stats[k]
            results[k] = (results[k].astype(np.float32) - mean) / std
        return results


@TRANSFORMS.register_module()
class MultiModalFlip(_JointTransform):
    """Horizontal flip of RGB and flow together with probability
    ``flip_ratio``; flipping negates the horizontal flow (channel 0).

    Must run after :class:`MultiModalNormalize`: the negation is exact only
    on zero-centred floats (on uint8 it would be 255 - x, off by one from the
    128-centred encoding), so uint8 flow raises.

    Added keys: ``flip`` (bool).

    Args:
        flip_ratio (float): Defaults to 0.5.
        keys (Sequence[str]): Defaults to ('rgb', 'flow').
    """

    def __init__(self, flip_ratio: float = 0.5, keys=('rgb', 'flow')):
        super().__init__(keys)
        self.flip_ratio = flip_ratio

    def transform(self, results: Dict) -> Dict:
        keys = self.active_keys(results)
        # Draw even when no key is active so the RNG stream does not depend
        # on the modality combination.
        flip = bool(np.random.rand() < self.flip_ratio)
        results['flip'] = flip
        if not flip:
            return results
        for k in keys:
            clip = results[k]
            if k == 'flow':
                if not np.issubdtype(clip.dtype, np.floating):
                    raise TypeError(
                        'MultiModalFlip: flow is '
                        f'{clip.dtype}; put MultiModalNormalize before '
                        'MultiModalFlip so the x-flow negation is exact.')
                clip = clip[:, :, ::-1].copy()
                clip[..., 0] = -clip[..., 0]
            else:
                clip = np.ascontiguousarray(clip[:, :, ::-1])
            results[k] = clip
        return results


@TRANSFORMS.register_module()
class MultiModalFormatShape(_JointTransform):
    """Network layout: RGB/flow T x H x W x C -> C x T x H x W (for
    ``num_clips`` > 1: clips are folded into T); audio F x N -> 1 x F x N.

    Args:
        keys (Sequence[str]): Defaults to ('rgb', 'flow', 'audio').
    """

    def __init__(self, keys=('rgb', 'flow', 'audio')):
        super().__init__(keys)

    def transform(self, results: Dict) -> Dict:
        for k in self.keys:
            if not is_active(results, k):
                continue
            if k not in results:
                raise KeyError(f'MultiModalFormatShape: results[{k!r}] '
                               f'missing (uid={results.get("uid")!r}).')
            arr = np.asarray(results[k])
            if arr.ndim == 4:
                arr = arr.transpose(3, 0, 1, 2)
            elif arr.ndim == 2:
                arr = arr[None]
            else:
                raise ValueError(f'MultiModalFormatShape: results[{k!r}] has '
                                 f'shape {arr.shape}; expected T x H x W x C '
                                 'or F x N.')
            results[k] = np.ascontiguousarray(arr, dtype=np.float32)
        return results
