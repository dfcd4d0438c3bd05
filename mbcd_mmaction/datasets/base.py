"""What every multi-modal dataset of this package shares: unreadable
samples either stop the run with a clear error or, where the user opts in,
are skipped and counted."""
import multiprocessing
import os.path as osp
from typing import Optional, Sequence, Tuple, Union

from mmaction.datasets import BaseActionDataset
from mmengine.logging import print_log

#: Every modality a dataset of this package can load, in the order inputs
#: are collected.
ALL_MODALITIES = ('rgb', 'flow', 'audio')


class UnreadableSampleError(OSError, ValueError):
    """A sample's file exists but cannot be used: empty, truncated,
    undecodable, or shorter than the clip needs. The message names the file
    and the sample."""


#: What ``skip_unreadable`` skips: a missing file or an unreadable one.
#: Anything else (a bug, a bad config) still stops the run.
SKIPPABLE = (FileNotFoundError, UnreadableSampleError)


def missing_data_hint(data_root: str, dataset: Optional[str] = None
                      ) -> str:
    """What to do when a dataset's split/annotation files are missing: how
    to generate the demo stand-in (``dataset`` 'epic' or 'hac') or prepare
    the real data, and how to check it before training."""
    demo = (f' To try the project without the real data, generate a '
            f'stand-in: python -m mbcd_mmaction.datasets.synthetic --dataset '
            f'{dataset} --root {data_root}'
            + (' (tools/demo.py does this for the EPIC demo config).'
               if dataset == 'epic' else '.') if dataset else '')
    prepare = {'epic': ' tools/data/prepare_epic_kitchens.py',
               'hac': ' tools/data/prepare_hac_layout.py'}.get(dataset, '')
    return (f'{demo} To use the real data, prepare it{prepare and " with"}'
            f'{prepare} (README, "Preparing data") and set data_root; '
            'python tools/data/check_dataset.py CONFIG then lists every '
            'missing or unreadable file.')


def check_domains(owner: str, domains: Union[str, Sequence[str], None],
                  allowed: Optional[Sequence[str]] = None,
                  example: str = '') -> Tuple[str, ...]:
    """``domains`` as a tuple, or a clear error: None (not yet filled by
    ``apply_protocol``), empty, or outside ``allowed`` (if given)."""
    if domains is None:
        raise ValueError(
            f'{owner}: `domains` is None. Set it in the config{example} or '
            'fill it with mbcd_mmaction.datasets.apply_protocol(cfg) (top-'
            'level target_domain / source_domain) before building the '
            'dataset.')
    if isinstance(domains, str):
        domains = [domains]
    repeated = sorted({d for d in domains if list(domains).count(d) > 1})
    if repeated:
        raise ValueError(f'{owner}: domains={list(domains)!r} lists '
                         f'{repeated} more than once (its samples would '
                         'count twice); list each domain once.')
    unknown = [d for d in domains if allowed is not None and d not in allowed]
    if unknown or not domains:
        raise ValueError(f'{owner}: unknown domain(s) {unknown or domains!r};'
                         ' expected a non-empty subset of '
                         f'{tuple(allowed or ())}.')
    return tuple(domains)


def check_choice(owner: str, name: str, value, allowed: Sequence) -> None:
    """A clear error unless ``value`` is one of ``allowed``."""
    if value not in allowed:
        raise ValueError(f'{owner}: {name}={value!r}, expected one of '
                         f'{tuple(allowed)}.')


def check_modalities(owner: str, modalities: Union[str, Sequence[str]]
                     ) -> Tuple[str, ...]:
    """``modalities`` in :data:`ALL_MODALITIES` order (so collected inputs
    are stable), or a clear error for an empty or unknown one."""
    if isinstance(modalities, str):
        modalities = [modalities]
    bad = [m for m in modalities if m not in ALL_MODALITIES]
    repeated = sorted({m for m in modalities
                       if list(modalities).count(m) > 1})
    if bad or not modalities or repeated:
        raise ValueError(f'{owner}: modalities={modalities!r}; expected a '
                         f'non-empty subset of {ALL_MODALITIES}' +
                         (f', each once ({repeated} repeated).' if repeated
                          else '.'))
    return tuple(m for m in ALL_MODALITIES if m in modalities)


def path_inside(root: str, value, where: str, key: str) -> str:
    """``value`` (a path relative to ``root``, or an absolute one inside
    it) joined to ``root``; a clear error naming ``where`` and ``key`` for a
    path that leaves ``root`` (``../../etc/passwd``). Lexical: symlinks
    inside ``root`` may point anywhere."""
    value = str(value).strip()
    joined = osp.normpath(value if osp.isabs(value) else
                          osp.join(root, value))
    base = osp.normpath(osp.abspath(root))
    if osp.commonpath([osp.abspath(joined), base]) != base:
        raise ValueError(
            f'{where}: {key}={value!r} leaves data_root ({root}): paths must '
            'name files inside data_root (relative to it, without `..` '
            'above it); set data_root to a folder that contains the data.')
    return joined


def plain_name(value, where: str, key: str) -> str:
    """``value`` as a file or folder name, or a clear error for one with a
    path separator, ``..`` or nothing in it."""
    value = str(value)
    if not value.strip() or value in ('.', '..') or '/' in value or \
            '\\' in value or value != osp.basename(value):
        raise ValueError(f'{where}: {key}={value!r} is not a plain name '
                         '(no path separators, `.` or `..`): it names '
                         'files under data_root.')
    return value


#: What loading transforms may change in a sample without stopping, and
#: report: kind -> description (for the log line).
ADJUSTMENTS = {
    'looped': 'shorter than clip_len x frame_interval: frames looped',
    'grey_to_rgb': 'greyscale RGB frames copied into 3 channels',
    'audio_padded': 'audio shorter than the clip window, tiled '
                    '(pad_short_audio=True)',
}


def note_adjustment(results: dict, kind: str) -> None:
    """Called by a loading transform: this sample was adjusted (``kind`` in
    :data:`ADJUSTMENTS`). The dataset records it per sample."""
    notes = results.get('adjusted', None)
    if notes is not None:
        notes.add(kind)


class MultiModalBaseDataset(BaseActionDataset):
    """``BaseActionDataset`` with opt-in skipping of unreadable samples.

    Args:
        skip_unreadable (bool): In training, replace a sample whose files
            are missing or unreadable by another random sample (mmengine's
            refetch) instead of stopping, and count it;
            ``SkippedSamplesHook`` reports the count at the end of each
            epoch. Never in test mode: evaluation must see every sample.
            Defaults to False (stop with the error).
        *args, **kwargs: Passed to :class:`BaseActionDataset`.
    """

    def __init__(self, *args, skip_unreadable: bool = False, **kwargs):
        if skip_unreadable and kwargs.get('test_mode', False):
            raise ValueError(
                f'{type(self).__name__}: skip_unreadable=True is only for '
                'training; evaluation must see every sample (test_mode=True)')
        self.skip_unreadable = skip_unreadable
        # Shared with forked dataloader workers, which do the loading.
        self._skipped = multiprocessing.Value('i', 0) \
            if skip_unreadable else None
        self._adjusted = None
        self.adjustments_reported = False
        super().__init__(*args, **kwargs)

    def full_init(self) -> None:
        super().full_init()
        if self._adjusted is None:
            # one flag per sample and kind, in shared memory so that forked
            # workers' records reach the main process
            self._adjusted = {kind: multiprocessing.Array('b', len(self))
                              for kind in ADJUSTMENTS}

    def adjusted_samples(self) -> dict:
        """``{kind: uint8 tensor of per-sample flags}`` of the samples the
        loading transforms adjusted (looped, converted, padded) so far."""
        import torch
        self.full_init()
        return {kind: torch.tensor(list(flags[:]), dtype=torch.uint8)
                for kind, flags in self._adjusted.items()}

    def _prepare(self, idx):
        data_info = self.get_data_info(idx)
        notes = data_info['adjusted'] = set()
        result = self.pipeline(data_info)
        for kind in notes:
            self._adjusted[kind][idx] = 1
        return result

    @property
    def num_skipped(self) -> int:
        """Samples skipped since the last :meth:`reset_skipped`."""
        return 0 if self._skipped is None else self._skipped.value

    def reset_skipped(self) -> None:
        if self._skipped is not None:
            with self._skipped.get_lock():
                self._skipped.value = 0

    def prepare_data(self, idx):
        if not self.skip_unreadable:
            return self._prepare(idx)
        try:
            return self._prepare(idx)
        except SKIPPABLE as error:
            with self._skipped.get_lock():
                self._skipped.value += 1
            print_log(f'skipping unreadable sample {idx}: {error}',
                      logger='current', level=30)
            return None  # mmengine's BaseDataset then draws another index
