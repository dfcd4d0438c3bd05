"""Cost of one training iteration per method (``tools/benchmark.py``).

Every method is its shipped config (discovered, never listed here) with the
paper's encoder architectures and no weights. The models are built once and
their iterations interleaved round by round, so load on the machine hits
every method alike. Timed iterations carry no instrumentation; the split of
an iteration into its parts comes from separate, instrumented iterations
(module hooks around the top stages, wrappers around the recognizer's
``extract_trunk`` and the optimiser wrapper's ``backward``/``step``), so the
model code carries no timers.
"""
import contextlib
import copy
import ctypes
import functools
import glob
import os.path as osp
import statistics
import time
from types import SimpleNamespace
from typing import Any, Callable, Dict, List, Sequence, Tuple

import torch
from mmaction.registry import HOOKS, MODELS
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper

from mbcd_mmaction.datasets.protocols import apply_protocol
from mbcd_mmaction.experiments import grid

#: Input shapes (C, T, H, W) / (C, H, W) per modality.
#: ``full``: the paper's (32x224x224 RGB, 8x224x224 flow, 10 s audio);
#: ``reduced``: what the 2-core CPU runs in minutes (the issue's baseline
#: measurement); ``smoke``: tiny, for CI.
SHAPES = dict(
    full=dict(rgb=(3, 32, 224, 224), flow=(2, 8, 224, 224),
              audio=(1, 257, 1004)),
    reduced=dict(rgb=(3, 32, 112, 112), flow=(2, 8, 112, 112),
                 audio=(1, 257, 502)),
    small=dict(rgb=(3, 16, 64, 64), flow=(2, 8, 64, 64),
               audio=(1, 257, 251)),
    smoke=dict(rgb=(3, 8, 32, 32), flow=(2, 4, 32, 32), audio=(1, 64, 64)))

#: Narrow encoders of the demo configs (smoke mode): same classes, tiny widths.
SMOKE_ENCODERS = {
    'rgb.backbone.channel_ratio': 4,
    'rgb.backbone.slow_pathway.depth': 18,
    'rgb.backbone.slow_pathway.base_channels': 8,
    'rgb.backbone.fast_pathway.depth': 18,
    'rgb.backbone.fast_pathway.base_channels': 2,
    'flow.backbone.depth': 18,
    'flow.backbone.base_channels': 8}

ABLATION_PATTERNS = ('mbcd/table4_*.py', 'mbcd/table5_*.py')


def discover_methods(config_root: str,
                     dataset: str = 'epic') -> Dict[str, str]:
    """``{method: config}`` of every method of ``dataset``
    (:func:`mbcd_mmaction.experiments.grid.method_configs`) plus the MBCD
    Table 4/5 ablations."""
    found = grid.method_configs(dataset, config_root)
    if not found:
        raise FileNotFoundError(
            f'{config_root}: no method configs <folder>/<method>_{dataset}.py')
    for pattern in ABLATION_PATTERNS:
        for path in sorted(glob.glob(osp.join(config_root, pattern))):
            found[osp.splitext(osp.basename(path))[0]] = path
    # ERM first: every ratio refers to it.
    return dict(sorted(found.items(), key=lambda kv: kv[0] != 'erm'))


def load_method_cfg(path: str, modalities: Sequence[str],
                    smoke: bool) -> Config:
    """The config's model and optimiser, with all ``modalities``, no
    pretrained weights (and tiny encoders when ``smoke``)."""
    cfg = Config.fromfile(path)
    cfg.modalities = tuple(modalities)
    cfg.target_domain = grid.DOMAINS['epic'][0]
    cfg.protocol = 'multi_source'
    apply_protocol(cfg)  # fills GMP's source_domains, model.modalities
    cfg.model.modalities = tuple(modalities)
    for enc in cfg.model.encoders.values():
        enc.pretrained = None
    if smoke:
        cfg.merge_from_dict({f'model.encoders.{k}': v
                             for k, v in SMOKE_ENCODERS.items()})
    return cfg


def synthetic_batch(shapes: Dict[str, tuple], modalities, batch_size: int,
                    num_classes: int, domains: Sequence[str],
                    pin_memory: bool, seed: int = 0) -> dict:
    """A batch as the data preprocessor receives it (fixed content)."""
    g = torch.Generator().manual_seed(seed)
    inputs = {}
    for m in modalities:
        clips = [torch.randn(shapes[m], generator=g)
                 for _ in range(batch_size)]
        inputs[m] = [c.pin_memory() for c in clips] if pin_memory else clips
    samples = []
    for i in range(batch_size):
        s = ActionDataSample().set_gt_label(i % num_classes)
        s.set_metainfo(dict(domain=domains[i % len(domains)],
                            domain_id=i % len(domains)))
        samples.append(s)
    return dict(inputs=inputs, data_samples=samples)


class _Clock:
    """Accumulates wall time in named buckets, counting nested or
    interleaved enter/exit pairs of one bucket once (the slow and fast
    pathways' backward may interleave)."""

    def __init__(self, sync):
        self.sync = sync
        self.total = {}
        self.calls = {}
        self._depth = {}
        #: gradients the backward under way carries at once (more than one
        #: inside a batched ``torch.autograd.grad``; set by
        #: :func:`_gradients_per_backward`)
        self.batch = 1
        #: gradients carried back through the top stages, summed over passes
        self.gradients = 0
        self._start = {}

    def enter(self, key):
        depth = self._depth.get(key, 0)
        if depth == 0:
            self.sync()
            self._start[key] = time.perf_counter()
        self._depth[key] = depth + 1
        self.calls[key] = self.calls.get(key, 0) + 1

    def exit(self, key):
        self._depth[key] -= 1
        if self._depth[key] == 0:
            self.sync()
            self.total[key] = self.total.get(key, 0.0) + \
                time.perf_counter() - self._start[key]

    def wrap(self, fn, key):
        def timed(*args, **kwargs):
            self.enter(key)
            try:
                return fn(*args, **kwargs)
            finally:
                self.exit(key)
        return timed


def _time_module(layer: torch.nn.Module, clock: _Clock) -> list:
    """Hooks adding ``layer``'s forward time to ``top_fwd`` and its
    backward time to ``top_bwd``.

    A backward pass through the layer starts when the gradient of its
    output is computed and ends when the gradients of all its parameters
    are; tensor hooks see both in ``loss.backward()`` and in the
    ``torch.autograd.grad`` calls of look-ahead and GMP (module backward
    hooks miss the latter: they wait for input gradients that are never
    asked for).
    """
    params = [p for p in layer.parameters() if p.requires_grad]
    pending = []  # parameters still to get a gradient, per open pass

    def output_grad(grad):
        pending.append(len(params))
        clock.enter('top_bwd')
        clock.gradients += clock.batch

    def param_grad(grad):
        if pending:
            pending[-1] -= 1
            if pending[-1] == 0:
                pending.pop()
                clock.exit('top_bwd')

    def forward_hook(module, args, output):
        clock.exit('top_fwd')
        if torch.is_tensor(output) and output.requires_grad:
            output.register_hook(output_grad)

    return [layer.register_forward_pre_hook(
                lambda *a: clock.enter('top_fwd')),
            layer.register_forward_hook(forward_hook),
            *[p.register_hook(param_grad) for p in params]]


@contextlib.contextmanager
def _gradients_per_backward(clock: _Clock):
    """Within the block, a batched ``torch.autograd.grad``
    (``is_grads_batched``) sets ``clock.batch`` to the number of gradients
    it carries while it runs: one backward pass through the top stages
    then does the work of that many (the tensor hooks see one call)."""
    grad = torch.autograd.grad

    @functools.wraps(grad)
    def counted(outputs, inputs, grad_outputs=None, *args, **kwargs):
        if not kwargs.get('is_grads_batched', False):
            return grad(outputs, inputs, grad_outputs, *args, **kwargs)
        given = [g for g in (grad_outputs if isinstance(
            grad_outputs, (list, tuple)) else [grad_outputs])
            if g is not None]
        clock.batch = given[0].shape[0]
        try:
            return grad(outputs, inputs, grad_outputs, *args, **kwargs)
        finally:
            clock.batch = 1

    torch.autograd.grad = counted
    try:
        yield
    finally:
        torch.autograd.grad = grad


def _top_stage_modules(model) -> List[torch.nn.Module]:
    return [layer for enc in model.encoders.values()
            for layer in enc.top_layers().values()]


#: what :func:`_top_stage_counts` reports, as the benchmark's JSON names it
TOP_STAGE_COUNTS = ('top_stage_passes_fwd', 'top_stage_passes_bwd',
                    'top_stage_gradients_bwd')


def _top_stage_counts(clock: _Clock, num_modules: int) -> Dict[str, float]:
    """Forward passes, backward passes and the gradients those carry, per
    top-stage module, from a clock that :func:`_time_module` and
    :func:`_gradients_per_backward` fed."""
    return dict(zip(TOP_STAGE_COUNTS, (
        clock.calls.get('top_fwd', 0) / num_modules,
        clock.calls.get('top_bwd', 0) / num_modules,
        clock.gradients / num_modules)))


def count_top_stage_passes(model, step: Callable[[], Any]
                           ) -> Tuple[float, float, float]:
    """Forward and backward passes through the trainable top stages during
    one call of ``step`` (e.g. a training iteration), per top-stage module,
    and the gradients those backward passes carry:
    ``(forward, backward, gradients)``. A pass is one forward call of a
    module, or one backward through it (``loss.backward()`` or a
    ``torch.autograd.grad``; a batched one counts once, and as many
    gradients as it carries: it costs about that many passes); a gradient
    injected into the parameters directly is none. ERM's iteration is
    ``(1, 1, 1)``."""
    clock = _Clock(lambda: None)
    layers = _top_stage_modules(model)
    handles = [h for layer in layers for h in _time_module(layer, clock)]
    try:
        with _gradients_per_backward(clock):
            step()
    finally:
        for h in handles:
            h.remove()
    return tuple(_top_stage_counts(clock, len(layers)).values())


class _Memory:
    """Peak memory of one iteration above what was held before it.

    CUDA: ``torch.cuda.max_memory_allocated``. CPU: the kernel's peak
    resident set (``VmHWM``, reset through ``/proc/self/clear_refs``) above
    the resident set at the start, after returning freed heap pages to the
    system (glibc ``malloc_trim``), so cached free memory is not reused
    unseen.
    """

    def __init__(self, device: torch.device):
        self.cuda = device.type == 'cuda'
        try:
            self._libc = ctypes.CDLL('libc.so.6')
        except OSError:
            self._libc = None

    @staticmethod
    def _status(field: str) -> int:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith(field + ':'):
                    return int(line.split()[1]) * 1024
        raise KeyError(field)

    def start(self):
        if self.cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self._base = torch.cuda.memory_allocated()
            return
        if self._libc is not None:
            self._libc.malloc_trim(0)
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')  # resets VmHWM to the current resident set
        self._base = self._status('VmRSS')

    def peak(self) -> int:
        if self.cuda:
            torch.cuda.synchronize()
            return torch.cuda.max_memory_allocated() - self._base
        return self._status('VmHWM') - self._base


def _numel(tensors) -> int:
    return sum(t.numel() for t in tensors)


class MethodRunner:
    """One method's model, optimiser and fixed batch."""

    def __init__(self, name: str, cfg: Config, batch: dict,
                 device: torch.device, amp: bool, channels_last: bool):
        self.name = name
        self.config = cfg.filename
        self.device = device
        model = MODELS.build(copy.deepcopy(cfg.model))
        model.init_weights()
        self.model = model.to(device).train()
        if channels_last:
            self._to_channels_last()
        optim_cfg = copy.deepcopy(cfg.optim_wrapper)
        if amp:
            optim_cfg.type = 'AmpOptimWrapper'
            optim_cfg.dtype = 'bfloat16'
        self.optim_wrapper = build_optim_wrapper(self.model, optim_cfg)
        self.hooks = [HOOKS.build(copy.deepcopy(h))
                      for h in cfg.get('custom_hooks', [])]
        self._runner = SimpleNamespace(model=self.model)
        self.batch = batch

    def _to_channels_last(self):
        # 5-D convolutions (video, flow) and 4-D ones (audio) each have
        # their own channels-last layout; the preprocessor's output follows.
        for enc in self.model.encoders.values():
            fmt = torch.channels_last_3d if any(
                p.dim() == 5 for p in enc.parameters()) else \
                torch.channels_last
            enc.to(memory_format=fmt)
        pre = self.model.data_preprocessor
        forward = pre.forward

        def channels_last_forward(*args, **kwargs):
            data = forward(*args, **kwargs)
            data['inputs'] = {
                m: x.contiguous(memory_format=torch.channels_last_3d
                                if x.dim() == 5 else torch.channels_last)
                if torch.is_tensor(x) and x.dim() in (4, 5) else x
                for m, x in data['inputs'].items()}
            return data
        pre.forward = channels_last_forward

    def sync(self):
        if self.device.type == 'cuda':
            torch.cuda.synchronize()

    def step(self) -> None:
        """One training iteration as mmengine's loop runs it: the model's
        ``train_step`` (preprocess, loss, backward, optimiser step) and the
        iteration hooks (the EMA teacher's update)."""
        self.model.train_step(self.batch, self.optim_wrapper)
        for hook in self.hooks:
            hook.after_train_iter(self._runner, 0)

    def timed_step(self) -> float:
        self.sync()
        start = time.perf_counter()
        self.step()
        self.sync()
        return time.perf_counter() - start

    def breakdown_step(self) -> Dict[str, float]:
        """One instrumented iteration: seconds per part, top-stage calls
        and peak memory."""
        clock = _Clock(self.sync)
        model, ow = self.model, self.optim_wrapper
        patched = [(ow, 'backward'), (ow, 'step'), (ow, 'zero_grad')]
        keys = dict(backward='backward', step='optimizer_step',
                    zero_grad='optimizer_step')
        for obj, attr in patched:
            setattr(obj, attr, clock.wrap(getattr(obj, attr), keys[attr]))
        model.extract_trunk = clock.wrap(model.extract_trunk, 'trunk')
        patched.append((model, 'extract_trunk'))
        handles = []
        for layer in _top_stage_modules(model):
            handles += _time_module(layer, clock)
        try:
            self.sync()
            start = time.perf_counter()
            with _gradients_per_backward(clock):
                model.train_step(self.batch, ow)
            self.sync()
            train_step = time.perf_counter() - start
            clock.enter('ema_update')
            for hook in self.hooks:
                hook.after_train_iter(self._runner, 0)
            clock.exit('ema_update')
        finally:
            for h in handles:
                h.remove()
            for obj, attr in patched:
                delattr(obj, attr)  # back to the class's method
        t = clock.total
        parts = dict(trunk=t.get('trunk', 0.0),
                     top_fwd=t.get('top_fwd', 0.0),
                     top_bwd=t.get('top_bwd', 0.0),
                     ema_update=t.get('ema_update', 0.0),
                     optimizer_step=t.get('optimizer_step', 0.0))
        # Heads, losses, fusion, the method's own autograd work (look-ahead
        # gradients, GMP's per-task gradients) and batching.
        parts['other'] = max(0.0, train_step - parts['trunk'] -
                             parts['top_fwd'] - parts['top_bwd'] -
                             parts['optimizer_step'])
        parts['total'] = train_step + parts['ema_update']
        return dict(parts=parts, **_top_stage_counts(
            clock, len(_top_stage_modules(model))))

    def memory_step(self) -> int:
        """Peak memory of one iteration (bytes above its start). On CPU
        this returns freed memory to the system first, so it runs after
        every timed and instrumented iteration."""
        memory = _Memory(self.device)
        memory.start()
        self.step()
        return memory.peak()

    def sizes(self) -> dict:
        """Parameters and buffers of the student and the teacher."""
        model = self.model
        teacher = getattr(model, 'teacher', None)
        student_params = [p for n, p in model.named_parameters()
                          if not n.startswith('teacher.')]
        student_buffers = [b for n, b in model.named_buffers()
                           if not n.startswith('teacher.')]
        out = dict(
            student_params=_numel(student_params),
            student_trainable_params=_numel(
                p for p in student_params if p.requires_grad),
            student_buffers=_numel(student_buffers),
            teacher_params=0, teacher_buffers=0)
        if teacher is not None:
            out['teacher_params'] = _numel(teacher.parameters())
            out['teacher_buffers'] = _numel(teacher.buffers())
            out['teacher_params_vs_student'] = \
                out['teacher_params'] / out['student_params']
        return out


#: Stop before the host runs out of memory (every method's model,
#: optimiser state and, on CPU, retained freed memory are held at once).
MIN_AVAILABLE_BYTES = 1 << 30


class HostMemoryExhausted(RuntimeError):
    """The methods held at once need more host memory than is left."""


def _check_host_memory(held: Sequence[str], total: int) -> None:
    try:
        with open('/proc/meminfo') as f:
            available = next(int(line.split()[1]) * 1024 for line in f
                             if line.startswith('MemAvailable:'))
    except (OSError, StopIteration):
        return  # not Linux: no check
    if available < MIN_AVAILABLE_BYTES:
        raise HostMemoryExhausted(
            f'host memory: {available / 2**30:.1f} GiB left with {len(held)} '
            f'of {total} methods held ({", ".join(held)}); the benchmark '
            'keeps every method in one process to interleave them. Run '
            'fewer at once with --methods (ERM is always added), or a '
            'smaller --size.')


def benchmark_methods(methods: Dict[str, str], shapes: Dict[str, tuple],
                      modalities: Sequence[str], batch_size: int,
                      warmup: int, iters: int, breakdown_iters: int,
                      device: torch.device, amp: bool, channels_last: bool,
                      pin_memory: bool, smoke: bool) -> Tuple[dict, list]:
    """Seconds per iteration (median), split, memory and sizes per method;
    methods interleaved in every round. Returns ``(results, errors)``."""
    runners, errors = {}, []
    for name, path in methods.items():
        try:
            cfg = load_method_cfg(path, modalities, smoke)
            domains = [d for d in grid.DOMAINS['epic']
                       if d != cfg.target_domain]
            batch = synthetic_batch(shapes, modalities, batch_size,
                                    cfg.model.num_classes, domains,
                                    pin_memory)
            runners[name] = MethodRunner(name, cfg, batch, device, amp,
                                         channels_last)
            if device.type == 'cpu':
                _check_host_memory(list(runners), len(methods))
        except HostMemoryExhausted:
            raise
        except Exception as e:  # reported, the others still run
            errors.append(dict(method=name, config=path, stage='build',
                               error=f'{type(e).__name__}: {e}'))
    times = {n: [] for n in runners}
    splits = {n: [] for n in runners}
    peaks = {n: [] for n in runners}
    # Memory last: measuring it on CPU returns the freed memory that the
    # timed iterations reuse (MMDGRunner keeps it; README "Performance").
    rounds = ['warmup'] * warmup + ['timed'] * iters + \
        ['split'] * breakdown_iters + ['memory']
    for kind in rounds:
        for name, runner in list(runners.items()):
            try:
                if kind == 'warmup':
                    runner.step()
                elif kind == 'timed':
                    times[name].append(runner.timed_step())
                elif kind == 'split':
                    splits[name].append(runner.breakdown_step())
                else:
                    peaks[name].append(runner.memory_step())
                if device.type == 'cpu':
                    _check_host_memory(list(runners), len(methods))
            except HostMemoryExhausted:
                raise
            except Exception as e:
                errors.append(dict(method=name, config=runner.config,
                                   stage='iteration',
                                   error=f'{type(e).__name__}: {e}'))
                del runners[name]
    results = {}
    erm = statistics.median(times['erm']) if times.get('erm') else None
    erm_other = None
    for name, runner in runners.items():
        sec = statistics.median(times[name])
        split = {k: statistics.median(s['parts'][k] for s in splits[name])
                 for k in splits[name][0]['parts']} if splits[name] else {}
        res = dict(config=osp.relpath(runner.config),
                   sec_per_iter=sec, sec_per_iter_all=times[name],
                   ratio_to_erm=sec / erm if erm else None,
                   split_sec=split,
                   split_fraction={k: v / split['total']
                                   for k, v in split.items()
                                   if k != 'total'} if split else {},
                   peak_memory_bytes=max(peaks[name], default=None),
                   **{k: splits[name][0][k] if splits[name] else None
                      for k in TOP_STAGE_COUNTS},
                   **runner.sizes())
        if name == 'erm' and split:
            erm_other = split['other']
        results[name] = res
    for res in results.values():
        # The method's own work: what it spends outside trunk, top stages
        # and optimiser beyond what ERM spends there.
        if erm_other is not None and res['split_sec']:
            res['extra_method_sec'] = res['split_sec']['other'] - erm_other
    return results, errors
