"""Media helpers for the data preparation tools: audio track extraction
(PyAV, which bundles ffmpeg in its wheel), frame-rate conversion, optical
flow and its 8-bit quantisation, mp4 writing (OpenCV ``mp4v``, decodable by
decord)."""
import os
import os.path as osp
from typing import Iterable, Optional, Tuple

import cv2
import numpy as np

#: Flow is clipped to +-FLOW_BOUND pixels before quantisation (mmaction's
#: denseflow default, the bound used for the TV-L1 jpgs of EPIC/HAC).
FLOW_BOUND = 20.0


def read_audio_track(path: str, sample_rate: int = 16000) -> np.ndarray:
    """The first audio stream of a media file as mono float32 at
    ``sample_rate`` (PyAV decode + resample).

    Raises:
        ValueError: the file has no audio stream.
    """
    import av
    with av.open(path) as container:
        streams = container.streams.audio
        if not streams:
            raise ValueError(f'{path}: no audio stream.')
        resampler = av.AudioResampler(format='flt', layout='mono',
                                      rate=sample_rate)
        chunks, bad = [], 0
        for packet in container.demux(streams[0]):
            try:
                frames = packet.decode()
            except av.error.InvalidDataError:
                # A damaged packet (real files have some): skip it, as
                # ffmpeg does, unless nothing decodes at all.
                bad += 1
                continue
            for frame in frames:
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
        if bad and not chunks:
            raise ValueError(f'{path}: the audio stream does not decode.')
        for out in resampler.resample(None):  # flush
            chunks.append(out.to_ndarray().reshape(-1))
    if not chunks:
        return np.zeros(0, np.float32)
    return np.concatenate(chunks).astype(np.float32)


def read_video_frames(path: str) -> Tuple[np.ndarray, float]:
    """All frames of a video, RGB uint8 (T, H, W, 3), and its frame rate."""
    cap = cv2.VideoCapture(path)
    if not cap.isOpened():
        raise OSError(f'{path}: cannot open the video.')
    fps = cap.get(cv2.CAP_PROP_FPS) or 0.0
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    cap.release()
    if not frames:
        raise OSError(f'{path}: no decodable video frames.')
    if not fps or fps != fps or fps <= 0:
        raise OSError(f'{path}: unknown frame rate.')
    return np.stack(frames), float(fps)


def resample_frames(frames: np.ndarray, src_fps: float,
                    dst_fps: float) -> np.ndarray:
    """Nearest-frame conversion to ``dst_fps`` (output frame k shows the
    source frame at time k / dst_fps); the duration is kept."""
    n_src = len(frames)
    duration = n_src / src_fps
    n_dst = max(int(round(duration * dst_fps)), 1)
    idx = np.minimum(np.floor(np.arange(n_dst) * src_fps / dst_fps + 1e-6),
                     n_src - 1).astype(int)
    return frames[idx]


def resize_short_side(frames: np.ndarray, short_side: Optional[int]
                      ) -> np.ndarray:
    """Resize so the short side is ``short_side`` (None: unchanged); sizes
    are rounded to even numbers (codec friendly)."""
    if not short_side:
        return frames
    h, w = frames.shape[1:3]
    scale = short_side / min(h, w)
    out_w = max(2, int(round(w * scale / 2)) * 2)
    out_h = max(2, int(round(h * scale / 2)) * 2)
    return np.stack([cv2.resize(f, (out_w, out_h),
                                interpolation=cv2.INTER_AREA) for f in frames])


def flow_algorithms() -> Tuple[str, ...]:
    """Algorithms available here: ``'tvl1'`` needs ``cv2.optflow``
    (opencv-contrib); ``'farneback'`` is in every OpenCV."""
    algos = ['farneback']
    if hasattr(cv2, 'optflow') and hasattr(
            cv2.optflow, 'DualTVL1OpticalFlow_create'):
        algos.insert(0, 'tvl1')
    return tuple(algos)


def make_flow_fn(algorithm: str = 'auto'):
    """``fn(prev_grey, next_grey) -> (H, W, 2) float32`` flow in pixels.

    ``'tvl1'``: ``cv2.optflow.DualTVL1OpticalFlow_create()`` with OpenCV's
    defaults (the algorithm of the EPIC and HAC flow); ``'farneback'``:
    ``cv2.calcOpticalFlowFarneback(pyr_scale=0.5, levels=3, winsize=15,
    iterations=3, poly_n=5, poly_sigma=1.2)``; ``'auto'``: TV-L1 when
    available, else Farneback.
    """
    available = flow_algorithms()
    if algorithm == 'auto':
        algorithm = available[0]
    if algorithm not in available:
        raise ValueError(f'flow algorithm {algorithm!r} not available here '
                         f'(available: {available}; tvl1 needs '
                         'opencv-contrib-python).')
    if algorithm == 'tvl1':
        tvl1 = cv2.optflow.DualTVL1OpticalFlow_create()

        def fn(prev, nxt):
            return tvl1.calc(prev, nxt, None)
    else:
        def fn(prev, nxt):
            return cv2.calcOpticalFlowFarneback(prev, nxt, None, 0.5, 3, 15,
                                                3, 5, 1.2, 0)
    fn.algorithm = algorithm
    return fn


def quantize_flow(flow: np.ndarray, bound: float = FLOW_BOUND) -> np.ndarray:
    """Clip to ``[-bound, bound]`` and map linearly to 0..255 (uint8):
    ``round(255 * (f + bound) / (2 * bound))``; 0 motion -> 128."""
    flow = np.clip(flow, -bound, bound)
    return np.round(255.0 * (flow + bound) / (2 * bound)).astype(np.uint8)


def dequantize_flow(q: np.ndarray, bound: float = FLOW_BOUND) -> np.ndarray:
    """Inverse of :func:`quantize_flow` (up to the 8-bit step)."""
    return q.astype(np.float32) / 255.0 * (2 * bound) - bound


def compute_flow(frames: np.ndarray, algorithm: str = 'auto',
                 bound: float = FLOW_BOUND,
                 progress: Optional[callable] = None) -> np.ndarray:
    """Quantised flow (T, H, W, 2) uint8 of RGB frames (T, H, W, 3): flow
    ``t`` goes from frame ``t`` to ``t + 1``; the last one repeats the one
    before, so flow has as many frames as the video (one frame: zero
    motion)."""
    fn = make_flow_fn(algorithm)
    grey = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
    flows = []
    for t in range(len(grey) - 1):
        flows.append(quantize_flow(fn(grey[t], grey[t + 1]), bound))
        if progress is not None:
            progress()
    if not flows:
        h, w = grey[0].shape
        flows.append(quantize_flow(np.zeros((h, w, 2), np.float32), bound))
    flows.append(flows[-1])
    return np.stack(flows)


def write_mp4(path: str, frames: Iterable[np.ndarray], fps: float) -> None:
    """Write RGB (H, W, 3) or grey (H, W) uint8 frames as an ``mp4v`` mp4
    (written to a temporary name, renamed when complete)."""
    frames = list(frames)
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    h, w = frames[0].shape[:2]
    tmp = path + '.part.mp4'
    writer = cv2.VideoWriter(tmp, cv2.VideoWriter_fourcc(*'mp4v'), fps,
                             (w, h))
    if not writer.isOpened():
        raise RuntimeError(f'cv2.VideoWriter cannot write {path} (mp4v).')
    for frame in frames:
        code = cv2.COLOR_GRAY2BGR if frame.ndim == 2 else cv2.COLOR_RGB2BGR
        writer.write(np.ascontiguousarray(cv2.cvtColor(frame, code)))
    writer.release()
    os.replace(tmp, path)


def write_wav(path: str, wav: np.ndarray, sample_rate: int) -> None:
    """16-bit PCM mono wav (temporary name, renamed when complete)."""
    import soundfile as sf
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    tmp = path + '.part.wav'
    sf.write(tmp, np.clip(wav, -1, 1), sample_rate, subtype='PCM_16')
    os.replace(tmp, path)
