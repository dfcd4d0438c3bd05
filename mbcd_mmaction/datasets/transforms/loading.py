"""Loading transforms for multi-modal clips (RGB, optical flow, audio).

Results keys follow :mod:`mbcd_mmaction.datasets.epic_kitchens`: the dataset
puts ``modalities`` (tuple) and per-modality inputs into each data_info; the
transforms here add ``rgb`` (uint8, T x H x W x 3, RGB order), ``flow``
(uint8, T x H x W x 2, channels u, v) and ``audio`` (float32, 257 x N
log-spectrogram).

A transform for a modality that is not in ``results['modalities']`` does
nothing, so one pipeline serves every modality combination (va, vf, af, vaf).
A modality that *is* listed but whose files are missing raises.
All randomness comes from numpy's global RNG (and python ``random`` in
mmaction helpers), which mmengine seeds per worker.
"""
import os.path as osp
from typing import Dict, Sequence

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from scipy import signal

from mmaction.datasets.transforms import SampleFrames
from mmaction.registry import TRANSFORMS

from ..base import UnreadableSampleError, note_adjustment


def is_active(results: Dict, modality: str) -> bool:
    """Whether ``modality`` is loaded for this sample.

    Without a ``modalities`` key (a transform used stand-alone) every
    modality counts as active.
    """
    return modality in results.get('modalities', (modality, ))


def _describe(results: Dict) -> str:
    """Sample identification for error messages."""
    return (f"uid={results.get('uid')!r}, domain={results.get('domain')!r}, "
            f"video_id={results.get('video_id')!r}")


def _open_videos(paths: Sequence[str], results: Dict, modality: str):
    import decord  # imported lazily: only the clips layout needs it
    readers = []
    for path in paths:
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'{modality} clip video {path} not found ({_describe(results)})'
                '; expected the mp4-per-clip layout described in '
                'mbcd_mmaction.datasets.epic_kitchens.')
        try:
            reader = decord.VideoReader(path, num_threads=1)
        except Exception as error:  # decord raises its own DECORDError
            raise UnreadableSampleError(
                f'{modality} video {path} could not be opened '
                f'({_describe(results)}): {error}') from error
        if len(reader) == 0:
            raise UnreadableSampleError(
                f'{modality} video {path} has no frames '
                f'({_describe(results)}).')
        readers.append(reader)
    return readers


def _read_video_frames(reader, path: str, inds, results: Dict,
                       modality: str) -> np.ndarray:
    """Frames ``inds`` of an opened video, or an error naming the file."""
    if int(np.max(inds)) >= len(reader):
        raise UnreadableSampleError(
            f'{modality} video {path} has {len(reader)} frames but the clip '
            f'needs frame {int(np.max(inds))} (truncated file? '
            f'{_describe(results)}).')
    try:
        return reader.get_batch(list(inds)).asnumpy()
    except Exception as error:
        raise UnreadableSampleError(
            f'{modality} video {path}: frames {list(inds)} could not be '
            f'decoded ({_describe(results)}): {error}') from error


@TRANSFORMS.register_module()
class SampleModalityFrames(SampleFrames):
    """mmaction's :class:`SampleFrames` for one named modality.

    Same offsets as ``SampleFrames`` (train: random offset; test: centre;
    short clips loop with ``out_of_bound_opt='loop'``), read from and written
    to modality-prefixed keys so RGB and flow are sampled independently.

    Required keys: ``{m}_total_frames`` and ``{m}_start_index`` (frames
    layout), or ``{m}_videos`` (clips layout: the count is read from the mp4s,
    indices start at 0, the opened readers are kept in ``{m}_readers``).
    Optional with ``{m}_videos``: ``{m}_time_span`` ``(start_s, stop_s)``
    samples only the frames of that segment of the video (the generic
    annotation format's ``start``/``stop``), and ``{m}_fps`` overrides the
    frame rate read from the file.
    Added keys: ``{m}_frame_inds`` (int32, ``num_clips * clip_len``, absolute
    frame indices), ``{m}_clip_len``; with ``{m}_videos`` also ``{m}_fps``.

    Args:
        modality (str): ``'rgb'`` or ``'flow'``.
        clip_len (int): Frames per clip.
        frame_interval (int): Step between sampled frames, in this
            modality's own frames. Defaults to 1.
        num_clips (int): Defaults to 1.
        test_mode (bool): Centre offset instead of a random one.
        **kwargs: Other :class:`SampleFrames` arguments.
    """

    def __init__(self, modality: str, clip_len: int, frame_interval: int = 1,
                 num_clips: int = 1, test_mode: bool = False, **kwargs):
        if modality not in ('rgb', 'flow'):
            raise ValueError(f"SampleModalityFrames: modality={modality!r}, "
                             "expected 'rgb' or 'flow'.")
        super().__init__(clip_len=clip_len, frame_interval=frame_interval,
                         num_clips=num_clips, test_mode=test_mode, **kwargs)
        self.modality = modality

    def transform(self, results: Dict) -> Dict:
        m = self.modality
        if not is_active(results, m):
            return results
        if f'{m}_total_frames' in results:
            total = int(results[f'{m}_total_frames'])
            start = int(results.get(f'{m}_start_index', 0))
        elif f'{m}_videos' in results:
            readers = _open_videos(results[f'{m}_videos'], results, m)
            # u and v mp4s should match; never index past the shorter.
            total = min(len(r) for r in readers)
            start = 0
            fps = float(results.get(f'{m}_fps') or
                        readers[0].get_avg_fps())
            results[f'{m}_fps'] = fps
            span = results.get(f'{m}_time_span', None)
            if span is not None:
                # A segment [start_s, stop_s] (seconds) of a longer video.
                first = max(int(round(float(span[0]) * fps)), 0)
                last = min(int(round(float(span[1]) * fps)), total)
                start, total = first, last - first
            results[f'{m}_readers'] = readers
        else:
            raise KeyError(f'SampleModalityFrames({m}): results have neither '
                           f'{m}_total_frames nor {m}_videos '
                           f'({_describe(results)}).')
        if total < 1:
            raise ValueError(f'SampleModalityFrames({m}): clip has {total} '
                             f'frames ({_describe(results)}).')
        sampled = super().transform(dict(total_frames=total,
                                         start_index=start))
        clips = np.asarray(sampled['frame_inds']).reshape(-1, self.clip_len)
        if (np.diff(clips, axis=1) <= 0).any():
            # out_of_bound_opt wrapped (loop) or repeated the last frame:
            # the clip has fewer than clip_len x frame_interval frames
            note_adjustment(results, 'looped')
        results[f'{m}_frame_inds'] = sampled['frame_inds']
        results[f'{m}_clip_len'] = self.clip_len
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(modality={self.modality}, '
                f'clip_len={self.clip_len}, '
                f'frame_interval={self.frame_interval}, '
                f'num_clips={self.num_clips}, test_mode={self.test_mode})')


#: JPEG start-of-frame markers (baseline, progressive, lossless, ...),
#: whose segment gives the number of colour components.
_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB,
             0xCD, 0xCE, 0xCF}


def image_channels(data: bytes):
    """Colour channels of a JPEG or PNG image from its header (1 for
    greyscale), or None if the header does not say."""
    if data[:8] == b'\x89PNG\r\n\x1a\n' and len(data) > 25:
        # IHDR colour type: 0 grey, 4 grey + alpha
        return 1 if data[25] in (0, 4) else 3
    if data[:2] != b'\xff\xd8':
        return None
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        length = int.from_bytes(data[pos + 2:pos + 4], 'big')
        if marker in _JPEG_SOF:
            return data[pos + 9] if pos + 9 < len(data) else None
        pos += 2 + length
    return None


@TRANSFORMS.register_module()
class LoadModalityFrames(BaseTransform):
    """Read the sampled frames of RGB or flow, from jpgs or clip mp4s.

    Frames layout: RGB ``{rgb_dir}/{rgb_tmpl}`` (colour jpg), flow
    ``{flow_dirs[0]}/{flow_tmpl}`` (u) and ``{flow_dirs[1]}/...`` (v), grey
    jpgs. Clips layout: decord readers from :class:`SampleModalityFrames`
    (or opened here from ``{m}_videos``); flow keeps channel 0 of each mp4.

    Required keys: ``{m}_frame_inds`` and the layout's path keys.
    Added keys: ``m`` (uint8 ndarray, T x H x W x C with C = 3 for RGB in RGB
    order, C = 2 for flow as (u, v)), ``{m}_img_shape`` ((H, W)).

    Args:
        modality (str): ``'rgb'`` or ``'flow'``.
    """

    def __init__(self, modality: str):
        if modality not in ('rgb', 'flow'):
            raise ValueError(f"LoadModalityFrames: modality={modality!r}, "
                             "expected 'rgb' or 'flow'.")
        self.modality = modality

    def _read_jpg(self, path: str, results: Dict, index: int) -> np.ndarray:
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'{self.modality} frame {path} not found (frame index {index},'
                f' {_describe(results)}).')
        try:
            # mmcv.imread(path) is imfrombytes(the file's bytes); reading
            # them here also gives the header, which says whether the image
            # is greyscale (OpenCV's colour decoding copies grey into three
            # channels without notice)
            with open(path, 'rb') as f:
                data = f.read()
            if self.modality == 'rgb':
                if image_channels(data) == 1:
                    note_adjustment(results, 'grey_to_rgb')
                img = mmcv.imfrombytes(data, flag='color',
                                       channel_order='rgb')
            else:
                img = mmcv.imfrombytes(data, flag='grayscale')
        except Exception:  # OpenCV asserts on empty or corrupt buffers
            img = None
        if img is None:
            raise UnreadableSampleError(
                f'{self.modality} frame {path} could not be decoded (empty or'
                f' corrupt jpg; {_describe(results)}).')
        return img

    def transform(self, results: Dict) -> Dict:
        m = self.modality
        if not is_active(results, m):
            return results
        if f'{m}_frame_inds' not in results:
            raise KeyError(f'LoadModalityFrames({m}): no {m}_frame_inds; put '
                           f'SampleModalityFrames(modality={m!r}) first.')
        inds = np.asarray(results[f'{m}_frame_inds']).reshape(-1)
        if f'{m}_videos' in results and f'{m}_dir' not in results \
                and f'{m}_dirs' not in results:
            paths = results[f'{m}_videos']
            readers = results.pop(f'{m}_readers', None) or _open_videos(
                paths, results, m)
            arrays = [_read_video_frames(r, path, inds.tolist(), results, m)
                      for r, path in zip(readers, paths)]
            if m == 'rgb':
                imgs = arrays[0]
            else:
                imgs = np.stack([a[..., 0] for a in arrays], axis=-1)
        else:
            cache = {}  # looped short clips repeat indices: read each once
            frames = []
            for idx in inds.tolist():
                if idx not in cache:
                    if m == 'rgb':
                        path = osp.join(results['rgb_dir'],
                                        results['rgb_tmpl'].format(idx))
                        cache[idx] = self._read_jpg(path, results, idx)
                    else:
                        name = results['flow_tmpl'].format(idx)
                        cache[idx] = np.stack([
                            self._read_jpg(osp.join(d, name), results, idx)
                            for d in results['flow_dirs']
                        ], axis=-1)
                frames.append(cache[idx])
            imgs = np.stack(frames)
        results[m] = np.ascontiguousarray(imgs)
        results[f'{m}_img_shape'] = imgs.shape[1:3]
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(modality={self.modality})'


def log_spectrogram(waveform: np.ndarray, sample_rate: int = 16000,
                    nperseg: int = 512, noverlap: int = 353,
                    eps: float = 1e-7) -> np.ndarray:
    """Per-sample z-scored log power spectrogram (SimMMDG's audio input).

    Args:
        waveform (ndarray): Mono samples, shape (L, ), in [-1, 1].

    Returns:
        ndarray: float64, shape (nperseg // 2 + 1, n_frames); 257 x 1004 for
        10 s at 16 kHz with the defaults.
    """
    _, _, spec = signal.spectrogram(waveform, sample_rate, nperseg=nperseg,
                                    noverlap=noverlap)
    spec = np.log(spec + eps)
    return (spec - spec.mean()) / (spec.std() + 1e-9)


def audio_span(results: Dict):
    """``(start_s, stop_s)`` of a sample's audio window (``stop_s`` None:
    to the end of the file).

    * ``audio_start`` / ``audio_stop`` given (EPIC timestamps, the generic
      format's ``start``/``stop``): those.
    * otherwise the span of the frames sampled for the first modality of
      ``audio_span_from`` (default ``('rgb', 'flow')``) that has
      ``{m}_frame_inds``, as the MMDG-Bench port cuts HAC audio:
      ``[min(inds) / fps, max(inds) / fps]`` with ``fps`` =
      ``audio_frame_fps`` (HAC: 24) or the video's ``{m}_fps``. The port
      takes the first and last sampled index; min/max is the same for an
      ordinary clip and stays a real window when a short video loops (the
      port's window is then empty and it feeds zeros). A one-frame span is
      widened to one frame period.
    * no sampled frames (audio alone): the whole file.
    """
    if results.get('audio_start', None) is not None:
        return float(results['audio_start']), results.get('audio_stop', None)
    for m in results.get('audio_span_from', ('rgb', 'flow')):
        inds = results.get(f'{m}_frame_inds', None)
        if inds is None or not is_active(results, m):
            continue
        fps = results.get('audio_frame_fps', None) or \
            results.get(f'{m}_fps', None)
        if not fps:
            raise KeyError(f'audio window from {m} frames needs '
                           f'audio_frame_fps or {m}_fps ({_describe(results)}'
                           ').')
        inds = np.asarray(inds).reshape(-1)
        start_s = float(inds.min()) / fps
        stop_s = max(float(inds.max()) / fps, start_s + 1.0 / fps)
        return start_s, stop_s
    return 0.0, None


@TRANSFORMS.register_module()
class LoadAudioSpectrogram(BaseTransform):
    """Cut a clip's span from its video's wav and turn it into a spectrogram.

    Steps (SimMMDG / MMDG-Bench port): read the window of
    :func:`audio_span` (``[audio_start, audio_stop]``)
    seconds of ``audio_path`` (only that span is read from disk), mix to mono,
    resample to ``sample_rate`` if the file differs, tile periodically or cut
    to ``clip_seconds``, clip to [-1, 1], ``scipy.signal.spectrogram(nperseg=
    512, noverlap=353)``, ``log(S + 1e-7)``, per-sample z-score.

    Train only (``test_mode=False``), as in the port: uniform noise in
    ``[-noise, noise]`` is added to the **z-scored spectrogram** (not to the
    waveform), then one band of ``mask_rows`` consecutive frequency rows is
    zeroed, its first row drawn uniformly from ``[0, 256 - mask_rows)``.

    Required keys: ``audio_path``, and ``audio_start``, ``audio_stop``
    (seconds) or the sampled frames the window is taken from (see
    :func:`audio_span`: HAC and the generic format; put this transform after
    the frame sampling then).
    Added keys: ``audio`` (float32, 257 x N; N = 1004 for 10 s).

    Args:
        sample_rate (int): Defaults to 16000.
        clip_seconds (float): Length the span is tiled/cut to. Defaults to 10.
        nperseg (int): Window. Defaults to 512.
        noverlap (int): Overlap (hop 159). Defaults to 353.
        test_mode (bool): Disable the augmentation. Defaults to False.
        noise (float): Noise amplitude. Defaults to 0.05.
        mask_rows (int): Height of the zeroed band. Defaults to 9.
        pad_short_audio (bool): An audio file that ends before the clip's
            window does (by more than ``short_tolerance``) is an
            :class:`UnreadableSampleError` by default (skipped and counted
            with ``skip_unreadable=True``). True tiles the audio there is
            over the window instead, and the dataset counts the sample as
            ``audio_padded`` (logged once by ``SkippedSamplesHook``).
            Defaults to False.
        short_tolerance (float): Seconds an audio file may end before the
            window without notice (rounding of timestamps, an encoder's
            last partial frame). Defaults to 0.1.
    """

    def __init__(self, sample_rate: int = 16000, clip_seconds: float = 10.0,
                 nperseg: int = 512, noverlap: int = 353,
                 test_mode: bool = False, noise: float = 0.05,
                 mask_rows: int = 9, pad_short_audio: bool = False,
                 short_tolerance: float = 0.1):
        self.pad_short_audio = pad_short_audio
        self.short_tolerance = short_tolerance
        self.sample_rate = sample_rate
        self.clip_seconds = clip_seconds
        self.nperseg = nperseg
        self.noverlap = noverlap
        self.test_mode = test_mode
        self.noise = noise
        self.mask_rows = mask_rows
        self.num_samples = int(round(clip_seconds * sample_rate))
        if self.num_samples < nperseg:
            raise ValueError(f'LoadAudioSpectrogram: clip_seconds='
                             f'{clip_seconds} gives {self.num_samples} samples'
                             f', fewer than nperseg={nperseg}.')

    def read_span(self, results: Dict) -> np.ndarray:
        """The clip's mono waveform at ``sample_rate``, shape (L, )."""
        import soundfile as sf
        path = results['audio_path']
        if not osp.isfile(path):
            raise FileNotFoundError(f'audio file {path} not found '
                                    f'({_describe(results)}).')
        start_s, stop_s = audio_span(results)
        try:
            info = sf.info(path)
        except Exception as error:  # soundfile's LibsndfileError
            raise UnreadableSampleError(
                f'audio file {path} could not be read as audio '
                f'({_describe(results)}): {error}') from error
        sr = info.samplerate
        first = int(round(start_s * sr))
        last = info.frames if stop_s is None else min(
            int(round(stop_s * sr)), info.frames)
        wanted = None if stop_s is None else int(round(stop_s * sr))
        if wanted is not None and wanted - info.frames > \
                self.short_tolerance * sr and last > first:
            if not self.pad_short_audio:
                raise UnreadableSampleError(
                    f'audio file {path} has {info.frames / sr:.3f}s, shorter '
                    f'than the clip\'s window [{start_s:.3f}s, {stop_s:.3f}s]'
                    f' ({(last - first) / sr:.3f}s of '
                    f'{stop_s - start_s:.3f}s; {_describe(results)}). Set '
                    'pad_short_audio=True in LoadAudioSpectrogram to tile '
                    'the audio there is (counted and logged), or '
                    'skip_unreadable=True in the training dataset to skip '
                    'such samples.')
            note_adjustment(results, 'audio_padded')
        if last <= first:
            raise UnreadableSampleError(
                f'audio span [{start_s:.3f}s, {stop_s:.3f}s] of {path} is '
                f'empty (file has {info.frames / sr:.3f}s; '
                f'{_describe(results)}).')
        try:
            wav, _ = sf.read(path, start=first, stop=last, dtype='float64',
                             always_2d=True)
        except Exception as error:
            raise UnreadableSampleError(
                f'audio file {path}: samples {first}..{last} could not be '
                f'read (truncated file? {_describe(results)}): {error}'
            ) from error
        if len(wav) < last - first:
            raise UnreadableSampleError(
                f'audio file {path} ended after {len(wav)} of the '
                f'{last - first} samples of the clip (truncated file? '
                f'{_describe(results)}).')
        finite = np.isfinite(wav)
        if not finite.all():
            i = int(np.flatnonzero(~finite.all(axis=1))[0])
            raise UnreadableSampleError(
                f'audio file {path} holds {wav[i][~finite[i]][0]} at sample '
                f'{first + i} ({(first + i) / sr:.3f}s; float audio must be '
                f'finite; {_describe(results)}).')
        wav = wav.mean(axis=1)
        if sr != self.sample_rate:
            import librosa
            wav = librosa.resample(wav, orig_sr=sr,
                                   target_sr=self.sample_rate)
        return wav

    def transform(self, results: Dict) -> Dict:
        if not is_active(results, 'audio'):
            return results
        wav = self.read_span(results)
        # np.resize repeats the span periodically: the port's tiling.
        wav = np.clip(np.resize(wav, self.num_samples), -1.0, 1.0)
        spec = log_spectrogram(wav, self.sample_rate, self.nperseg,
                               self.noverlap)
        if not self.test_mode:
            spec = spec + np.random.uniform(-self.noise, self.noise,
                                            spec.shape)
            n_freq = spec.shape[0]
            # Port: np.random.choice(256 - interval); keep it in range for
            # other window sizes too.
            high = max(min(256, n_freq - 1) - self.mask_rows, 1)
            first = np.random.randint(high)
            spec[first:first + self.mask_rows, :] = 0
        results['audio'] = spec.astype(np.float32)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(sample_rate={self.sample_rate}, '
                f'clip_seconds={self.clip_seconds}, test_mode='
                f'{self.test_mode}, pad_short_audio={self.pad_short_audio})')
