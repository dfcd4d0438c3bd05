"""Sweeps: a grid of training runs launched through ``submitit``.

Each run is ``tools/train.py CONFIG --work-dir DIR --seed N --cfg-options
...`` in its own work dir ``<work_root>/<run name>/seed<N>``
(``<work_root>/<run name>/opts_<hash>/seed<N>`` when the sweep adds
``--cfg-options``: the hash covers every added option, so runs that differ
in any argument never share a directory), executed as a
submitit job: :class:`submitit.LocalExecutor` on one machine (N jobs at a
time, each given its own GPU(s) when there are GPUs, else CPU processes) or
:class:`submitit.AutoExecutor` on a Slurm cluster (GPUs per job, partition,
time limit). submitit runs the jobs; this module only decides which runs to
start, keeps at most N local jobs running and reports progress.

State of a run, from its work dir:

* ``running``: another process holds the run's lock (``run.lock``: a
  training of it, or ``sweep.lock``: another sweep launched it and waits
  for it) -> skipped and reported as running elsewhere, never as done;
* ``done``: ``target_results.json`` exists (tools/train.py writes it,
  atomically, after testing the best checkpoint) -> skipped;
* ``interrupted``: the work dir holds checkpoints but no results (a killed
  run or sweep) -> continued with ``--resume`` when the sweep is given
  ``--resume``, else left alone and reported;
* ``failed``: the last attempt of an earlier sweep exited non-zero
  (``sweep_status.json``) -> like ``interrupted``;
* ``todo``: nothing yet.

A work dir whose recorded run (``sweep_status.json``, or the command line
in ``target_results.json``) differs from the requested config, options or
seed is an error (:class:`RunConflictError`), never a skip.

Every launch records what it ran in ``<work_root>/sweep_manifest.json``
(the grid selection, seeds, options and each run's work dir), which
``tools/collect_results.py`` reads by default.

A run that fails is retried once (``retries``), continuing from its last
checkpoint with ``--resume``. ``sweep_status.json`` in the work dir records
the state, the attempt, the command and its log (``sweep_attempt<k>.log``),
so ``tools/collect_results.py`` shows a failed run as failed.

Claims: before launching a run the sweep takes its ``sweep.lock``
(``fcntl.flock``, atomic; released when the job ends or the sweep dies)
and checks that no training holds ``run.lock``; only then does it write
into the work dir. Two sweeps on one work root thus never launch the same
run twice, and a run started by hand is left to finish.
"""
import glob
import hashlib
import json
import os
import os.path as osp
import shlex
import sys
import time
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

from mbcd_mmaction.work_dir_lock import (RUN_LOCK, SWEEP_LOCK, WorkDirLock,
                                         WorkDirLockedError, describe_holder,
                                         holder)

from . import grid as grid_module

RESULTS = 'target_results.json'
STATUS = 'sweep_status.json'
MANIFEST = 'sweep_manifest.json'
REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TRAIN_TOOL = osp.join(REPO_ROOT, 'tools', 'train.py')


class RunConflictError(ValueError):
    """A work dir holds a run of other arguments than the requested one."""


def options_dir(extra_options: Sequence[str]) -> str:
    """The work-dir level of a sweep's added ``--cfg-options``: ``''``
    without any, else ``opts_<8 hex digits>`` of their sorted list."""
    if not extra_options:
        return ''
    text = json.dumps(sorted(extra_options))
    return 'opts_' + hashlib.sha256(text.encode()).hexdigest()[:8]


def run_work_dir(work_root: str, run_name: str, seed: int,
                 extra_options: Sequence[str] = ()) -> str:
    """``<work_root>/<run name>[/opts_<hash>]/seed<N>``."""
    return osp.join(work_root, run_name, options_dir(extra_options),
                    f'seed{seed}')


def _cfg_options_of(argv: Sequence[str]) -> List[str]:
    """The ``KEY=VALUE`` arguments after ``--cfg-options`` in ``argv``."""
    out, inside = [], False
    for arg in argv:
        if arg == '--cfg-options':
            inside = True
        elif arg.startswith('--'):
            inside = False
        elif inside:
            out.append(arg)
    return out


def _config_key(path: str) -> str:
    """A config path from its ``configs/`` folder on (the same config in
    another clone of the repository compares equal)."""
    parts = osp.normpath(path).split(os.sep)
    if 'configs' in parts:
        index = len(parts) - 1 - parts[::-1].index('configs')
        return '/'.join(parts[index:])
    return osp.basename(path)


def _seed_of(argv: Sequence[str]) -> Optional[int]:
    for flag, value in zip(argv, argv[1:]):
        if flag == '--seed':
            return int(value)
    return None


@dataclass
class Run:
    """One training run of the sweep."""
    name: str                     # <config stem>/<protocol>_<domain>
    config: str
    options: List[str]            # key=value, --cfg-options
    seed: int
    work_dir: str

    def command(self, resume: bool = False,
                python: str = sys.executable) -> List[str]:
        cmd = [python, TRAIN_TOOL, self.config, '--work-dir', self.work_dir,
               '--seed', str(self.seed)]
        if resume:
            cmd.append('--resume')
        if self.options:
            cmd += ['--cfg-options', *self.options]
        return cmd

    def identity(self) -> Dict:
        """What makes this run this run (recorded in ``sweep_status.json``
        and compared before a run is skipped or resumed)."""
        return dict(config=self.config, options=sorted(self.options),
                    seed=self.seed)

    def check_recorded(self) -> None:
        """Raise :class:`RunConflictError` when the work dir holds a run of
        other arguments: the one the sweep recorded, or the command line
        ``tools/train.py`` wrote into ``target_results.json``."""
        recorded = read_status(self.work_dir).get('run', None)
        found = []
        if recorded is not None and recorded != self.identity():
            found.append(('sweep_status.json', recorded))
        results = _read_results(self.work_dir) or {}
        command = results.get('command', None)
        if command:
            done = dict(config=_config_key(results.get('config_file') or
                                           command[0]),
                        options=sorted(_cfg_options_of(command)),
                        seed=_seed_of(command))
            want = dict(self.identity(), config=_config_key(self.config))
            if done != want:
                found.append((RESULTS, done))
        if found:
            name, other = found[0]
            raise RunConflictError(
                f'{self.work_dir} holds a run of other arguments ({name}: '
                f'{other}) than the requested {self.identity()}: refusing '
                'to skip or continue it as this run. Use another '
                '--work-root, or delete the directory.')

    def holder(self) -> Optional[dict]:
        """The record of the process holding this run's ``run.lock`` or
        ``sweep.lock`` (another sweep), or None."""
        for name in (RUN_LOCK, SWEEP_LOCK):
            record = holder(self.work_dir, name)
            if record is not None:
                return record
        return None

    def state(self, locks: bool = True) -> str:
        """'running', 'done', 'failed', 'interrupted' or 'todo' (see module
        doc); ``locks=False``: from the files only (the sweep that holds
        the run's claim); :class:`RunConflictError` when the work dir holds
        another run."""
        if locks and self.holder() is not None:
            return 'running'
        self.check_recorded()
        if osp.isfile(osp.join(self.work_dir, RESULTS)):
            return 'done'
        status = read_status(self.work_dir)
        if status.get('state') == 'failed':
            return 'failed'
        if glob.glob(osp.join(self.work_dir, '*.pth')) or osp.isfile(
                osp.join(self.work_dir, 'last_checkpoint')):
            return 'interrupted'
        return 'todo'


def read_json_file(path: str) -> Optional[Dict]:
    """A JSON file's content, None if it does not exist; a torn file is an
    error naming it."""
    if not osp.isfile(path):
        return None
    with open(path) as f:
        try:
            return json.load(f)
        except json.JSONDecodeError as err:
            raise ValueError(f'{path} is not valid JSON ({err}); it was cut '
                             'short or edited. Delete it to let the sweep '
                             'rewrite it.') from None


def read_status(work_dir: str) -> Dict:
    return read_json_file(osp.join(work_dir, STATUS)) or {}


def _read_results(work_dir: str) -> Optional[Dict]:
    return read_json_file(osp.join(work_dir, RESULTS))


def read_manifest(work_root: str) -> Optional[Dict]:
    """The sweep manifest of ``work_root`` (None if no sweep ran there)."""
    return read_json_file(osp.join(work_root, MANIFEST))


def record_sweep(work_root: str, runs: Sequence['Run'], request: Dict
                 ) -> None:
    """Add one launch (its grid selection ``request`` and ``runs``) to
    ``<work_root>/sweep_manifest.json``, written atomically."""
    manifest = read_manifest(work_root) or dict(sweeps=[], runs={})
    manifest['sweeps'].append(dict(request, time=time.strftime(
        '%Y-%m-%dT%H:%M:%S%z')))
    for run in runs:
        manifest['runs'][osp.relpath(run.work_dir, work_root)] = dict(
            name=run.name, **run.identity())
    _write_json(work_root, MANIFEST, manifest)


def _write_json(directory: str, name: str, data: Dict) -> None:
    """``<directory>/<name>`` written atomically (temp file + rename)."""
    os.makedirs(directory, exist_ok=True)
    tmp = osp.join(directory, f'.{name}.tmp')
    with open(tmp, 'w') as f:
        json.dump(data, f, indent=1)
    os.replace(tmp, osp.join(directory, name))


def _write_status(work_dir: str, **fields) -> None:
    _write_json(work_dir, STATUS, {**read_status(work_dir), **fields})


def training_job(command: Sequence[str], log: str, cwd: str):
    """The function submitit executes for a run: ``command`` in ``cwd``,
    stdout and stderr into ``log``. A ``submitit.helpers.CommandFunction``
    (its job process imports submitit only, not this package); it raises
    when the command fails, so submitit reports the job as failed."""
    from submitit.helpers import CommandFunction
    return CommandFunction(
        ['bash', '-c', f'exec {shlex.join(command)} > {shlex.quote(log)} '
         '2>&1'], verbose=False, cwd=cwd)


def plan_grid_runs(cells, seeds: Sequence[int], work_root: str,
                   extra_options: Sequence[str] = ()) -> List[Run]:
    """One :class:`Run` per distinct training run of ``cells`` and seed."""
    runs: Dict[str, Run] = {}
    for cell in cells:
        for seed in seeds:
            key = f'{cell.run_id}#{seed}'
            if key not in runs:
                runs[key] = Run(
                    name=cell.run_name, config=cell.config,
                    options=[f'{k}={v}' for k, v in cell.options] +
                    list(extra_options), seed=seed,
                    work_dir=run_work_dir(work_root, cell.run_name, seed,
                                          extra_options))
    return list(runs.values())


def plan_config_runs(config: str, seeds: Sequence[int], work_root: str,
                     extra_options: Sequence[str] = (),
                     protocol: Optional[str] = None,
                     domains: Sequence[str] = ()) -> List[Run]:
    """Runs of one config: per domain (``target_domain``, or
    ``source_domain`` for ``single_source``) if given, and per seed."""
    stem = osp.splitext(osp.basename(config))[0]
    key = 'source_domain' if protocol == 'single_source' else 'target_domain'
    variants = [(f'{protocol or "multi_source"}_{d}', [f'{key}={d}'])
                for d in domains] or [('default', [])]
    if protocol:
        variants = [(n, [f'protocol={protocol}', *o]) for n, o in variants]
    runs = []
    for name, options in variants:
        for seed in seeds:
            runs.append(Run(f'{stem}/{name}', config,
                            options + list(extra_options), seed,
                            run_work_dir(work_root, f'{stem}/{name}', seed,
                                         extra_options)))
    return runs


def _bar(done: int, total: int, width: int = 30) -> str:
    filled = int(width * done / total) if total else width
    return '[' + '#' * filled + '.' * (width - filled) + ']'


class Sweep:
    """Launch ``runs`` through a submitit executor.

    Args:
        runs: From :func:`plan_grid_runs` / :func:`plan_config_runs`.
        executor: A submitit executor (``LocalExecutor`` or
            ``AutoExecutor``).
        max_parallel (int): Jobs running at once (local executor); 0: all
            at once (a cluster queues them itself).
        gpu_slots (list[list[int]]): For the local executor, the GPUs each
            concurrent job gets (``visible_gpus``); empty: CPU jobs.
        resume (bool): Continue interrupted runs with ``--resume``.
        retries (int): Attempts after a failure, each with ``--resume``.
        cwd (str): Working directory of the runs (the repository root, where
            ``configs/`` lives).
        poll_s (float): Seconds between progress checks.
        out: Stream of the progress lines.
    """

    def __init__(self, runs: Sequence[Run], executor, max_parallel: int = 1,
                 gpu_slots: Sequence[Sequence[int]] = (),
                 resume: bool = False, retries: int = 1,
                 cwd: str = REPO_ROOT, poll_s: float = 1.0,
                 out=sys.stdout) -> None:
        names = [r.work_dir for r in runs]
        if len(set(names)) != len(names):
            raise ValueError('two runs of the sweep share a work dir')
        self.runs = list(runs)
        self.executor = executor
        self.max_parallel = max_parallel
        self.gpu_slots = [list(s) for s in gpu_slots]
        self.resume = resume
        self.retries = retries
        self.cwd = cwd
        self.poll_s = poll_s
        self.out = out

    def _print(self, msg: str) -> None:
        print(msg, file=self.out, flush=True)

    def _claim(self, run: Run) -> Optional[WorkDirLock]:
        """Take the run's ``sweep.lock`` (kept while its job runs) unless
        another process has the run; None then, and said so."""
        claim = WorkDirLock(run.work_dir, SWEEP_LOCK, what='this sweep')
        try:
            claim.acquire()
        except WorkDirLockedError as err:
            self._print(f'running elsewhere ({describe_holder(err.holder)})'
                        f', not launched: {run.work_dir}')
            return None
        record = holder(run.work_dir, RUN_LOCK)
        if record is not None:
            claim.release()
            self._print(f'running elsewhere ({describe_holder(record)}), '
                        f'not launched: {run.work_dir}')
            return None
        return claim

    def _submit(self, run: Run, attempt: int, slot: Optional[int]):
        resume = attempt > 0 or run.state(locks=False) in ('interrupted',
                                                           'failed')
        if slot is not None and self.gpu_slots:
            self.executor.update_parameters(
                visible_gpus=self.gpu_slots[slot],
                gpus_per_node=len(self.gpu_slots[slot]))
        self.executor.update_parameters(name=run.name.replace('/', '_'))
        command = run.command(resume)
        os.makedirs(run.work_dir, exist_ok=True)
        log = osp.join(run.work_dir, f'sweep_attempt{attempt}.log')
        _write_status(run.work_dir, state='running', attempt=attempt,
                      command=shlex.join(command), log=log,
                      run=run.identity())
        return self.executor.submit(training_job(command, log, self.cwd))

    def launch(self) -> Dict[str, int]:
        """Run every pending run (retrying failures) and wait for them.

        Returns:
            dict: counts ``done`` (finished in this call or before),
            ``failed``, ``launched`` (runs started), ``skipped`` (already
            done), ``interrupted`` (interrupted or failed earlier, left
            alone without ``resume``), ``running_elsewhere`` (another
            process holds the run: not launched, not done).
        """
        counts = dict(done=0, failed=0, launched=0, skipped=0,
                      interrupted=0, running_elsewhere=0)
        queue = []
        for run in self.runs:
            state = run.state()
            if state == 'running':
                counts['running_elsewhere'] += 1
                self._print(f'running elsewhere ({describe_holder(run.holder())}'
                            f'), not launched: {run.work_dir}')
            elif state == 'done':
                counts['skipped'] += 1
                counts['done'] += 1
            elif state in ('interrupted', 'failed') and not self.resume:
                counts['interrupted'] += 1
                self._print(f'{state} earlier (pass --resume to continue it '
                            f'from its last checkpoint): {run.work_dir}')
            else:
                queue.append(run)
        total = len(self.runs)
        slots = list(range(max(len(self.gpu_slots), 1)))
        limit = self.max_parallel or len(queue) or 1
        if self.gpu_slots:
            limit = min(limit, len(self.gpu_slots))
        running = {}  # job -> (run, attempt, slot)
        claims = {}  # id(run) -> its sweep.lock, held while it is ours
        attempts = {id(r): 0 for r in queue}
        last = None
        try:
            self._run_queue(queue, running, claims, attempts, slots, limit,
                            counts, total, last)
        finally:
            for claim in claims.values():
                claim.release()
        return counts

    def _run_queue(self, queue, running, claims, attempts, slots, limit,
                   counts, total, last) -> None:
        while queue or running:
            while queue and len(running) < limit:
                run = queue.pop(0)
                if id(run) not in claims:
                    claim = self._claim(run)
                    if claim is None:
                        counts['running_elsewhere'] += 1
                        continue
                    claims[id(run)] = claim
                    if run.state(locks=False) == 'done':  # finished since
                        claims.pop(id(run)).release()
                        counts['skipped'] += 1
                        counts['done'] += 1
                        continue
                slot = slots.pop(0) if self.gpu_slots else None
                job = self._submit(run, attempts[id(run)], slot)
                if attempts[id(run)] == 0:
                    counts['launched'] += 1
                running[job] = (run, attempts[id(run)], slot)
            for job in [j for j in running if j.done()]:
                run, attempt, slot = running.pop(job)
                if slot is not None:
                    slots.append(slot)
                try:
                    job.result()
                    _write_status(run.work_dir, state='done')
                    counts['done'] += 1
                    claims.pop(id(run)).release()
                except Exception as err:  # noqa: BLE001 - reported below
                    record = holder(run.work_dir, RUN_LOCK)
                    if record is not None:
                        # a training started elsewhere took the run first
                        _write_status(run.work_dir, state='running elsewhere',
                                      holder=record)
                        claims.pop(id(run)).release()
                        counts['running_elsewhere'] += 1
                        self._print(f'running elsewhere ('
                                    f'{describe_holder(record)}), not '
                                    f'launched: {run.work_dir}')
                        continue
                    _write_status(run.work_dir, state='failed',
                                  error=str(err)[-2000:])
                    if attempt < self.retries:
                        attempts[id(run)] = attempt + 1
                        self._print(f'FAILED (retrying with --resume): '
                                    f'{run.work_dir}')
                        queue.insert(0, run)
                    else:
                        counts['failed'] += 1
                        claims.pop(id(run)).release()
                        log = read_status(run.work_dir).get('log')
                        self._print(f'FAILED: {run.work_dir} (log: {log})')
            line = (f'{_bar(counts["done"], total)} {counts["done"]}/{total}'
                    f' done, {len(running)} running, {counts["failed"]} '
                    f'failed' + (f', {counts["running_elsewhere"]} running '
                                 'elsewhere' if counts['running_elsewhere']
                                 else ''))
            if line != last:
                self._print(line)
                last = line
            if running:
                time.sleep(self.poll_s)


def gpu_slots(num_gpus: int, gpus_per_job: int) -> List[List[int]]:
    """Disjoint GPU sets for concurrent local jobs."""
    if gpus_per_job <= 0 or num_gpus <= 0:
        return []
    return [list(range(i, i + gpus_per_job))
            for i in range(0, num_gpus - gpus_per_job + 1, gpus_per_job)]


def make_executor(kind: str, folder: str, timeout_min: int,
                  gpus_per_job: int = 1, partition: Optional[str] = None,
                  cpus_per_task: Optional[int] = None,
                  slurm_options: Optional[Dict] = None):
    """A submitit executor: ``'local'`` or ``'slurm'``."""
    import submitit
    if kind == 'local':
        executor = submitit.LocalExecutor(folder=folder)
        executor.update_parameters(timeout_min=timeout_min)
        return executor
    if kind != 'slurm':
        raise ValueError(f'executor {kind!r}: expected local or slurm')
    executor = submitit.AutoExecutor(folder=folder, cluster='slurm')
    params = dict(timeout_min=timeout_min, gpus_per_node=gpus_per_job,
                  tasks_per_node=1, nodes=1)
    if partition:
        params['slurm_partition'] = partition
    if cpus_per_task:
        params['cpus_per_task'] = cpus_per_task
    if slurm_options:
        params['slurm_additional_parameters'] = dict(slurm_options)
    executor.update_parameters(**params)
    return executor


def build_parser():
    import argparse
    grid = grid_module
    parser = argparse.ArgumentParser(
        description='Launch a grid of training runs (methods x datasets x '
        'protocols x modalities x targets x seeds) with submitit; skip '
        'finished runs, retry a failed run once.')
    sel = parser.add_argument_group('grid (the paper tables, '
                                    'mbcd_mmaction/experiments/grid.py)')
    sel.add_argument('--table', type=grid.parse_table, nargs='+',
                     help='tables %s, ablation tables %s (default: 1)' % (
                         sorted(grid.TABLES), sorted(grid.ABLATIONS, key=str)))
    sel.add_argument('--method', nargs='+', choices=grid.METHODS,
                     default=list(grid.METHODS))
    sel.add_argument('--dataset', nargs='+', choices=sorted(grid.DOMAINS))
    sel.add_argument('--modalities', nargs='+',
                     choices=sorted(grid.MODALITIES))
    sel.add_argument('--protocol', nargs='+',
                     choices=['multi_source', 'single_source', 'in_domain'])
    sel.add_argument('--domain', nargs='+',
                     help='keep the runs whose target (source for '
                     'single_source) is one of these')
    sel.add_argument('--config-pattern', default=grid.CONFIG_PATTERN,
                     help='config of a method (default %(default)s; e.g. '
                     'configs/{family}/{method}_{dataset}_demo.py)')
    one = parser.add_argument_group('or one config')
    one.add_argument('--config', help='sweep this config instead of the '
                     'grid (per --domain and --seeds)')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        metavar='KEY=VALUE',
                        help='added to every run (e.g. a reduced budget '
                        'train_cfg.max_epochs=2)')
    parser.add_argument('--work-root', default='work_dirs/sweep')
    parser.add_argument('--executor', choices=['local', 'slurm'],
                        default='local')
    parser.add_argument('--jobs', type=int, default=0,
                        help='local: runs at once (default: one per '
                        'GPU set, or 1 without GPUs)')
    parser.add_argument('--gpus-per-job', type=int, default=1)
    parser.add_argument('--partition', help='slurm partition')
    parser.add_argument('--time', type=int, default=24 * 60,
                        help='time limit of a run in minutes')
    parser.add_argument('--cpus-per-task', type=int)
    parser.add_argument('--resume', action='store_true',
                        help='continue interrupted runs from their last '
                        'checkpoint')
    parser.add_argument('--retries', type=int, default=1)
    parser.add_argument('--dry-run', action='store_true',
                        help='print the commands (and each run\'s state)')
    return parser


def plan_from_args(args) -> List[Run]:
    args.work_root = osp.abspath(args.work_root)
    if args.config:
        protocol = args.protocol[0] if args.protocol else None
        if args.protocol and len(args.protocol) > 1:
            raise ValueError('--config takes one --protocol')
        return plan_config_runs(osp.abspath(args.config), args.seeds, args.work_root,
                                args.cfg_options, protocol,
                                args.domain or ())
    cells = grid_module.table_cells(args.table or [1], args.method,
                                    args.dataset, args.modalities,
                                    args.config_pattern)
    if args.protocol:
        cells = [c for c in cells if c.protocol in args.protocol]
    if args.domain:
        cells = [c for c in cells
                 if set(dict(c.options).values()) & set(args.domain)]
    missing = sorted({c.config for c in cells
                      if not osp.isfile(osp.join(REPO_ROOT, c.config))
                      and not osp.isfile(c.config)})
    if missing:
        raise FileNotFoundError(
            f'configs of the grid do not exist: {missing}. Check --method / '
            '--config-pattern (a method needs configs/{family}/{method}_'
            '{dataset}.py).')
    if not cells:
        raise ValueError('the grid selection is empty')
    return plan_grid_runs(cells, args.seeds, args.work_root,
                          args.cfg_options)


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    runs = plan_from_args(args)
    if args.dry_run:
        for run in runs:
            state = run.state()
            if state == 'running':
                print(f'# running elsewhere ({describe_holder(run.holder())}'
                      f'): {run.name} seed {run.seed}')
                continue
            resume = state in ('interrupted', 'failed')
            if resume and not args.resume:
                state += ' (left alone without --resume)'
            print(f'# {state}: {run.name} seed {run.seed}')
            print(shlex.join(run.command(resume)))
        return 0
    slots: List[List[int]] = []
    if args.executor == 'local':
        num_gpus = 0
        try:
            import torch
            num_gpus = torch.cuda.device_count()
        except ImportError:
            pass
        slots = gpu_slots(num_gpus, args.gpus_per_job)
    record_sweep(args.work_root, runs, dict(
        argv=list(sys.argv[1:] if argv is None else argv),
        tables=[str(x) for x in args.table or [1]] if not args.config
        else None, methods=args.method, datasets=args.dataset,
        modalities=args.modalities, protocols=args.protocol,
        domains=args.domain, config_pattern=args.config_pattern,
        config=args.config, seeds=args.seeds, cfg_options=args.cfg_options))
    executor = make_executor(
        args.executor, osp.join(args.work_root, '.submitit'), args.time,
        args.gpus_per_job, args.partition, args.cpus_per_task)
    jobs = args.jobs or (len(slots) if slots else 1)
    if args.executor == 'slurm':
        jobs = args.jobs  # 0: all at once, the cluster queues them
    counts = Sweep(runs, executor, max_parallel=jobs, gpu_slots=slots,
                   resume=args.resume, retries=args.retries).launch()
    print(json.dumps(counts))
    return 1 if counts['failed'] else 0
