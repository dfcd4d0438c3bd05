"""Say what a distributed rank is waiting for when a peer stalls."""
import json
import os
import os.path as osp
import socket
import statistics
import sys
import threading
import time
from collections import deque
from typing import Dict, List, Optional

from mmaction.registry import HOOKS
from mmengine.dist import get_rank, get_world_size
from mmengine.hooks import Hook

HEARTBEAT_DIR = '.heartbeat'


def heartbeat_path(work_dir: str, rank: int) -> str:
    """``<work_dir>/.heartbeat/rank<rank>.json``."""
    return osp.join(work_dir, HEARTBEAT_DIR, f'rank{rank}.json')


def _write_json_atomic(path: str, record: dict) -> None:
    tmp = f'{path}.{os.getpid()}.{threading.get_ident()}.tmp'
    with open(tmp, 'w') as f:
        json.dump(record, f)
    os.replace(tmp, path)


def _ago(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 120:
        return f'{seconds:.0f} s'
    if seconds < 7200:
        return f'{seconds / 60:.1f} min'
    return f'{seconds / 3600:.1f} h'


def read_peers(work_dir: str, world_size: int, rank: int) -> Dict[int, dict]:
    """Every other rank's heartbeat record: ``{rank: record}``, or
    ``{rank: {'error': why}}`` for an absent or unreadable file."""
    peers = {}
    for r in range(world_size):
        if r == rank:
            continue
        path = heartbeat_path(work_dir, r)
        try:
            with open(path) as f:
                peers[r] = json.load(f)
        except FileNotFoundError:
            peers[r] = dict(error=f'no heartbeat file {path}')
        except (OSError, ValueError) as e:
            peers[r] = dict(error=f'unreadable heartbeat file {path} ({e})')
    return peers


def stall_message(own: dict, peers: Dict[int, dict], now: float,
                  stale_after: float, timeout: Optional[float],
                  work_dir: str) -> str:
    """The warning a rank logs when its current step has run too long.

    ``own`` and each of ``peers`` are heartbeat records (``rank``, ``pid``,
    ``host``, ``run``, ``phase``, ``inside``, ``progress``, ``since``,
    ``beat``). A peer is named as behind when its file is absent or from
    another run, when its heartbeat (rewritten every few seconds by its
    watchdog thread) is older than ``stale_after`` seconds (the process is
    stopped or frozen), or when it has recorded fewer steps than this rank.
    """
    head = (f"Rank {own['rank']} (pid {own['pid']}, host {own['host']}) has "
            f"been in {own['phase']} for {_ago(now - own['since'])}: "
            f"{own['inside']}.")
    behind: List[str] = []
    same: List[str] = []
    ahead: List[str] = []
    for r in sorted(peers):
        peer = peers[r]
        if 'error' in peer:
            behind.append(
                f'rank {r}: {peer["error"]} (it has not started, or '
                f'{work_dir} is not shared with its node): its state is '
                'unknown')
            continue
        who = f"rank {r} (pid {peer['pid']}, host {peer['host']})"
        last = (f"last recorded {peer['phase']} "
                f"{_ago(now - peer['since'])} ago")
        if peer.get('run') != own['run']:
            behind.append(
                f"{who}: its heartbeat file is from another run (started "
                f"{peer.get('run')}, this one {own['run']}): it has recorded "
                'nothing in this run')
        elif now - peer['beat'] > stale_after:
            behind.append(
                f"{who}: its heartbeat stopped {_ago(now - peer['beat'])} "
                'ago, so the process is stopped (SIGSTOP, Ctrl-Z), frozen '
                f'(swapping, a hung driver call) or gone; {last}')
        elif peer['progress'] < own['progress']:
            behind.append(f'{who}: alive but behind this rank, {last} '
                          f"({peer['inside']})")
        elif peer['progress'] > own['progress']:
            ahead.append(f'{who}: {last}')
        else:
            same.append(f'{who}: {last}')
    if timeout is None:
        limit = 'the process group timeout (env_cfg.dist_cfg.timeout, s)'
    else:
        limit = (f'the process group timeout (env_cfg.dist_cfg.timeout = '
                 f'{timeout:.0f} s)')
        left = timeout - (now - own['since'])
        if left > 0:
            limit = limit[:-1] + f'; about {_ago(left)} left)'
    others = ''
    if same:
        others += ' At the same point: ' + '; '.join(same) + '.'
    if ahead:
        others += ' Further on: ' + '; '.join(ahead) + '.'
    if behind:
        return (f'{head} It waits for: ' + '; '.join(behind) + '.' + others
                + ' Check that process (`ps -o pid,stat,wchan -p PID`: state '
                'T is stopped, `kill -CONT PID` resumes it; a hang in data '
                'loading or I/O shows in `py-spy dump --pid PID`). Nothing '
                f'else ends the wait: {limit} ends the job, or stop it '
                'yourself.')
    if ahead:
        cause = ('The ranks further on wait for this one: the time is spent '
                 'in this rank\'s step (e.g. its data loading or I/O).')
    else:
        cause = ('Every rank is alive and in this step, so the step itself '
                 'is slow or hung on one of them.')
    return (f'{head} No other rank is recorded behind this one.{others} '
            f'{cause} {limit[0].upper() + limit[1:]} ends the job if a '
            'collective waits that long.')


@HOOKS.register_module()
class PeerWatchdogHook(Hook):
    """Heartbeat and stall watchdog of a distributed run.

    A rank that waits in a collective (DDP's gradient all-reduce, the
    gathering of validation results) for a peer that is stopped, frozen or
    stuck otherwise prints nothing until the process group's timeout
    (``env_cfg.dist_cfg.timeout``; gloo's default is 30 minutes). With this
    hook every rank records where it is (training / validation / test
    iteration, checkpoint save) in ``<work_dir>/.heartbeat/rank<r>.json``
    (written atomically at each hook point; a daemon thread rewrites the
    file's ``beat`` time every ``beat_seconds``). When a rank's current step
    has lasted ``stall_seconds`` its thread logs one warning naming the
    rank, the step it is in, how long it has waited and the peers that are
    behind (rank, pid, host, their last recorded step and how long ago, or
    that their heartbeat stopped), and repeats it every ``stall_seconds``
    while the step lasts. Ranks other than 0 write the warning to stderr
    (mmengine's console handler shows only rank 0's warnings).

    The files of one run are removed when it ends (``after_run``); after a
    crash they stay and show where each rank was. Ranks on other nodes are
    seen only if the work directory is shared storage; a peer without a
    file is reported as unknown. Does nothing when not distributed.

    Args:
        stall_seconds (float, optional): Warn when a step lasts this long.
            Default: ``max(min_stall_seconds, stall_factor x`` the median
            training step time once known).
        min_stall_seconds (float): Default 300.
        stall_factor (float): Default 20.
        beat_seconds (float, optional): How often the thread rewrites the
            heartbeat and checks for a stall. Default
            ``min(10, stall / 10)`` (with ``stall_seconds``, else
            ``min_stall_seconds``). A peer whose heartbeat is older than
            3 beats is reported as stopped.
    """

    priority = 'HIGHEST'

    def __init__(self, stall_seconds: Optional[float] = None,
                 min_stall_seconds: float = 300, stall_factor: float = 20,
                 beat_seconds: Optional[float] = None):
        for key, value in dict(stall_seconds=stall_seconds,
                               min_stall_seconds=min_stall_seconds,
                               stall_factor=stall_factor,
                               beat_seconds=beat_seconds).items():
            if value is None and key in ('stall_seconds', 'beat_seconds'):
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not value > 0:
                raise ValueError(
                    f'PeerWatchdogHook: {key}={value!r}; expected a number '
                    '> 0 (seconds)' + (' or None (automatic)' if key in (
                        'stall_seconds', 'beat_seconds') else ''))
        self.stall_seconds = stall_seconds
        self.min_stall_seconds = float(min_stall_seconds)
        self.stall_factor = float(stall_factor)
        base = stall_seconds if stall_seconds is not None \
            else min_stall_seconds
        self.beat_seconds = float(beat_seconds) if beat_seconds is not None \
            else min(10.0, base / 10)
        self._active = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._steps = deque(maxlen=100)
        self._step_start: Optional[float] = None
        self._record: dict = {}

    # ------------------------------------------------------------------ state
    def current_stall_seconds(self) -> float:
        if self.stall_seconds is not None:
            return float(self.stall_seconds)
        if not self._steps:
            return self.min_stall_seconds
        return max(self.min_stall_seconds,
                   self.stall_factor * statistics.median(self._steps))

    def _set(self, phase: str, inside: str, counts: bool = True) -> None:
        if not self._active:
            return
        now = time.time()
        with self._lock:
            rec = self._record
            if counts:
                rec['progress'] += 1
            rec.update(phase=phase, inside=inside, since=now, beat=now)
            self._warned_at = None
            _write_json_atomic(self._path, rec)

    # ------------------------------------------------------------ lifecycle
    def before_run(self, runner) -> None:
        world_size = get_world_size()
        if world_size < 2:
            return
        self._work_dir = runner.work_dir
        self._rank = get_rank()
        self._world_size = world_size
        self._timeout = self._process_group_timeout(runner)
        os.makedirs(osp.join(self._work_dir, HEARTBEAT_DIR), exist_ok=True)
        self._path = heartbeat_path(self._work_dir, self._rank)
        self._logger = runner.logger
        now = time.time()
        self._record = dict(
            rank=self._rank, world_size=world_size, pid=os.getpid(),
            host=socket.gethostname(), run=str(runner.timestamp),
            phase='the start of the run',
            inside='building, loading or resuming the model and the first '
                   'batch', progress=0, since=now, beat=now)
        self._warned_at = None
        self._steps.clear()
        self._step_start = None
        with self._lock:
            _write_json_atomic(self._path, self._record)
        self._active = True
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._watch, name='PeerWatchdogHook', daemon=True)
        self._thread.start()

    def after_run(self, runner) -> None:
        if not self._active:
            return
        self._active = False
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        with self._lock:
            try:
                os.remove(self._path)
            except FileNotFoundError:
                pass
        try:  # the last rank to finish removes the folder
            os.rmdir(osp.dirname(self._path))
        except OSError:
            pass

    @staticmethod
    def _process_group_timeout(runner) -> Optional[float]:
        """Seconds a collective waits before failing: the process group's
        own setting, else ``env_cfg.dist_cfg.timeout``."""
        try:
            import torch
            import torch.distributed.distributed_c10d as c10d
            group = c10d._get_default_group()
            device = torch.device(
                'cuda' if c10d.get_backend() == 'nccl' else 'cpu')
            return group._get_backend(device).options._timeout \
                .total_seconds()
        except Exception:  # private torch API: fall back to the config
            cfg = getattr(runner, 'cfg', None) or {}
            timeout = cfg.get('env_cfg', {}).get('dist_cfg', {}).get(
                'timeout', None)
            return float(timeout) if timeout is not None else None

    # --------------------------------------------------------------- thread
    def _watch(self) -> None:
        while not self._stop.wait(self.beat_seconds):
            try:
                self._beat()
            except Exception as e:  # never let the watchdog kill the run
                sys.stderr.write(f'PeerWatchdogHook (rank {self._rank}): '
                                 f'{type(e).__name__}: {e}\n')

    def _beat(self) -> None:
        now = time.time()
        with self._lock:
            if not self._active:
                return
            self._record['beat'] = now
            _write_json_atomic(self._path, self._record)
            own = dict(self._record)
            warned_at = self._warned_at
        stall = self.current_stall_seconds()
        if now - own['since'] < stall:
            return
        if warned_at is not None and now - warned_at < stall:
            return
        peers = read_peers(self._work_dir, self._world_size, self._rank)
        message = stall_message(own, peers, now, 3 * self.beat_seconds,
                                self._timeout, self._work_dir)
        with self._lock:
            if self._record.get('since') != own['since']:
                return  # the step ended meanwhile
            self._warned_at = now
        self._logger.warning(message)
        if self._rank != 0:
            sys.stderr.write(f'WARNING - {message}\n')
            sys.stderr.flush()

    # ----------------------------------------------------------- hook points
    def before_train_epoch(self, runner) -> None:
        self._step_start = None
        self._set(f'the start of training epoch {runner.epoch + 1}',
                  "loading the epoch's first batch")

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if not self._active:
            return
        now = time.time()
        if self._step_start is not None:
            self._steps.append(now - self._step_start)
        self._step_start = now
        self._set(
            f'training iteration {runner.iter + 1} (epoch {runner.epoch + 1})',
            'the forward and backward, where DDP all-reduces the gradients '
            "with every rank, or a collective of the iteration's hooks")

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        self._set(
            f'the end of training iteration {runner.iter + 1} (epoch '
            f'{runner.epoch + 1})',
            "the iteration's other hooks, then loading the next batch "
            '(or the end-of-epoch hooks and validation)')

    def before_val(self, runner) -> None:
        self._step_start = None
        self._set('the start of validation', 'loading the first batch')

    def before_val_iter(self, runner, batch_idx, data_batch=None) -> None:
        self._set(f'validation iteration {batch_idx + 1}/'
                  f'{len(runner.val_dataloader)}',
                  "the forward on this rank's share of the data")

    def after_val_iter(self, runner, batch_idx, data_batch=None,
                       outputs=None) -> None:
        self._after_eval_iter('validation', batch_idx,
                              len(runner.val_dataloader))

    def after_val_epoch(self, runner, metrics=None) -> None:
        self._set('the end of validation',
                  'the after-validation hooks (best checkpoint, evaluation '
                  'logs), then back to training or the end of the run')

    def before_test(self, runner) -> None:
        self._set('the start of the test', 'loading the first batch')

    def before_test_iter(self, runner, batch_idx, data_batch=None) -> None:
        self._set(f'test iteration {batch_idx + 1}/'
                  f'{len(runner.test_dataloader)}',
                  "the forward on this rank's share of the data")

    def after_test_iter(self, runner, batch_idx, data_batch=None,
                        outputs=None) -> None:
        self._after_eval_iter('test', batch_idx, len(runner.test_dataloader))

    def after_test_epoch(self, runner, metrics=None) -> None:
        self._set('the end of the test', 'the after-test hooks')

    def _after_eval_iter(self, stage: str, batch_idx: int, total: int):
        if batch_idx + 1 >= total:
            inside = ("gathering every rank's results (collect_results: "
                      'a collective with every rank) and computing the '
                      'metrics')
        else:
            inside = 'loading the next batch'
        self._set(f'the end of {stage} iteration {batch_idx + 1}/{total}',
                  inside)

    # Checkpoints are written by rank 0 only: not counted as progress.
    def before_save_checkpoint(self, runner, checkpoint) -> None:
        if not self._active:
            return
        self._previous = (self._record['phase'], self._record['inside'])
        self._set(f'a checkpoint save (at {self._previous[0]})',
                  'writing the checkpoint (rank 0 only: the other ranks '
                  'wait for it at their next collective)', counts=False)

    def after_save_checkpoint(self, runner, checkpoint) -> None:
        if not self._active:
            return
        phase, inside = self._previous
        self._set(f'the end of a checkpoint save (at {phase})',
                  f'the remaining hooks, then {inside}', counts=False)
