"""Analyses that run the model: flatness, noise robustness, missing
modality, t-SNE.

Contact with the recognizer is kept to its public interface:
``model(inputs, mode='tensor')`` returns ``{'fused': logits, <modality>:
logits}`` for a dict of per-modality input tensors, and
``model.data_preprocessor`` batches a dataloader's samples. The EMA teacher
(``model.teacher.module``, an mmengine averaged model) is perturbed with the
student's trainable weights in the flatness analysis, since
``mode='tensor'`` evaluates the teacher when the model has one.

A modality is *removed* by zeroing its input tensor (after normalisation,
i.e. the dataset mean): the network still runs every encoder, as a
deployed model fed a blank stream would.
"""
import copy
import glob
import itertools
import os.path as osp
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F

Batch = Tuple[Dict[str, torch.Tensor], torch.Tensor]


@dataclass
class TargetData:
    """Re-iterable preprocessed batches ``(inputs, labels)``."""
    batches: Callable[[], Iterable[Batch]]
    modalities: Tuple[str, ...]


def _device(model) -> torch.device:
    return next(model.parameters()).device


@torch.no_grad()
def _logits(model, inputs) -> Dict[str, torch.Tensor]:
    return model(inputs, mode='tensor')


@torch.no_grad()
def accuracy(model, data: TargetData,
             transform: Optional[Callable] = None) -> Dict[str, float]:
    """Top-1 accuracy (%) of every head (``fused`` and each modality);
    ``transform(inputs, batch_index)`` changes the inputs first."""
    model.eval()
    correct: Dict[str, int] = {}
    total = 0
    for i, (inputs, labels) in enumerate(data.batches()):
        if transform is not None:
            inputs = transform(dict(inputs), i)
        for head, logits in _logits(model, inputs).items():
            correct[head] = correct.get(head, 0) + int(
                (logits.argmax(1) == labels).sum())
        total += len(labels)
    return {head: 100.0 * c / total for head, c in correct.items()}


def modality_noise(model, data: TargetData, modality: str,
                   stds: Sequence[float] = (0, 0.25, 0.5, 1, 2),
                   seed: int = 0) -> Dict:
    """Figure 1b: fused and uni-modal accuracy as zero-mean Gaussian noise
    of std ``s`` is added to ``modality``'s (normalised) input."""
    if modality not in data.modalities:
        raise KeyError(f'modality {modality!r}: the model has '
                       f'{data.modalities}')
    rows = []
    for std in stds:
        def add_noise(inputs, index, std=std):
            x = inputs[modality]
            g = torch.Generator().manual_seed(seed * 100003 + index)
            noise = torch.randn(x.shape, generator=g).to(x.device, x.dtype)
            inputs[modality] = x + std * noise
            return inputs
        rows.append(dict(std=float(std),
                         accuracy=accuracy(model, data, add_noise)))
    return dict(analysis='modality_noise', modality=modality, seed=seed,
                rows=rows)


def missing_modality(model, data: TargetData) -> Dict:
    """Accuracy with each modality, and each pair, removed (zeroed input) at
    test time; ``removed=[]`` is the full model."""
    mods = data.modalities
    rows = []
    for k in range(0, len(mods)):
        for removed in itertools.combinations(mods, k):
            def drop(inputs, index, removed=removed):
                for m in removed:
                    inputs[m] = torch.zeros_like(inputs[m])
                return inputs
            rows.append(dict(removed=list(removed),
                             accuracy=accuracy(model, data, drop)))
    return dict(analysis='missing_modality', removal='zeroed input',
                rows=rows)


def _perturbed_params(model) -> List[torch.nn.Parameter]:
    params = [p for p in model.parameters() if p.requires_grad]
    teacher = getattr(model, 'teacher', None)
    if teacher is not None:
        params += list(teacher.module.parameters())
    return params


@torch.no_grad()
def _loss(model, data: TargetData) -> float:
    model.eval()
    total, count = 0.0, 0
    for inputs, labels in data.batches():
        fused = _logits(model, inputs)['fused']
        total += float(F.cross_entropy(fused, labels, reduction='sum'))
        count += len(labels)
    return total / count


def flatness(model, data: TargetData,
             radii: Sequence[float] = (0, 10, 20, 30, 40),
             num_directions: int = 5, seed: int = 0) -> Dict:
    """Figure 3, SWAD's protocol (Cha et al. 2021): the fused
    cross-entropy increase ``L(theta + r d) - L(theta)`` for random unit
    directions ``d`` (Gaussian, normalised over all perturbed weights) and
    radii ``r``, averaged over ``num_directions`` directions. The perturbed
    weights are the trainable ones (and the EMA teacher's, which the model
    evaluates). ``r`` is an absolute L2 norm over all of them: compare it
    with the returned ``weight_norm``."""
    model = copy.deepcopy(model)
    params = _perturbed_params(model)
    if not params:
        raise ValueError('flatness: the model has no trainable parameters')
    origin = [p.detach().clone() for p in params]
    base = _loss(model, data)
    g = torch.Generator().manual_seed(seed)
    increases = {float(r): [] for r in radii}
    for _ in range(num_directions):
        direction = [torch.randn(p.shape, generator=g).to(p) for p in params]
        norm = torch.sqrt(sum((d ** 2).sum() for d in direction))
        for r in radii:
            with torch.no_grad():
                for p, o, d in zip(params, origin, direction):
                    p.copy_(o + float(r) * d / norm)
            increases[float(r)].append(_loss(model, data) - base)
    with torch.no_grad():
        for p, o in zip(params, origin):
            p.copy_(o)
    rows = [dict(radius=r, loss_increase=sum(v) / len(v), per_direction=v)
            for r, v in increases.items()]
    weight_norm = float(torch.sqrt(sum((o.double() ** 2).sum()
                                       for o in origin)))
    return dict(analysis='flatness', base_loss=base,
                num_directions=num_directions, seed=seed,
                num_params=sum(p.numel() for p in params),
                weight_norm=weight_norm, rows=rows)


@torch.no_grad()
def fused_embeddings(model, data: TargetData,
                     module_name: str = 'fused_head'
                     ) -> Tuple[torch.Tensor, torch.Tensor]:
    """The input of the fused classifier (the fused embedding) for every
    sample, and the labels: a forward pre-hook on each module whose name
    ends with ``module_name`` (the student's or the teacher's, whichever
    the model evaluates)."""
    captured: List[torch.Tensor] = []
    handles = [m.register_forward_pre_hook(
        lambda _m, args: captured.append(args[0].detach().cpu()))
        for name, m in model.named_modules()
        if name == module_name or name.endswith('.' + module_name)]
    if not handles:
        raise KeyError(f'no module named {module_name!r} in the model')
    feats, labels = [], []
    try:
        model.eval()
        for inputs, y in data.batches():
            captured.clear()
            _logits(model, inputs)
            if len(captured) != 1:
                raise RuntimeError(f'{module_name} ran {len(captured)} '
                                   'times in one forward')
            feats.append(captured[0].flatten(1))
            labels.append(y.cpu())
    finally:
        for h in handles:
            h.remove()
    return torch.cat(feats), torch.cat(labels)


def tsne_embeddings(model, data: TargetData, module_name: str = 'fused_head',
                    seed: int = 0, perplexity: float = 30.0) -> Dict:
    """Figure 6: 2-D t-SNE (scikit-learn) of the fused embeddings of the
    target set, with the labels (to colour by class)."""
    from sklearn.manifold import TSNE
    feats, labels = fused_embeddings(model, data, module_name)
    perplexity = min(perplexity, max(1.0, (len(feats) - 1) / 3))
    points = TSNE(n_components=2, perplexity=perplexity, random_state=seed,
                  init='pca').fit_transform(feats.double().numpy())
    return dict(analysis='tsne', module=module_name, seed=seed,
                perplexity=perplexity, points=points.tolist(),
                labels=labels.tolist())


# -- work dirs ---------------------------------------------------------------
def _work_dir_config(work_dir: str) -> str:
    """The config mmengine dumped into the work dir (protocol applied)."""
    configs = sorted(glob.glob(osp.join(work_dir, '*.py')))
    if len(configs) != 1:
        raise FileNotFoundError(
            f'{work_dir}: expected the one config mmengine dumps there, '
            f'found {configs}; pass --config')
    return configs[0]


def _best_checkpoint(work_dir: str) -> str:
    import json
    results = osp.join(work_dir, 'target_results.json')
    if osp.isfile(results):
        with open(results) as f:
            path = json.load(f).get('best_checkpoint')
        if path and osp.isfile(path):
            return path
    found = sorted(glob.glob(osp.join(work_dir, 'best_*.pth')))
    if not found:
        raise FileNotFoundError(f'{work_dir}: no best_*.pth checkpoint; '
                                'pass --checkpoint')
    return found[-1]


def describe_run(work_dir: str, config: Optional[str] = None) -> Dict:
    """What a plot of ``work_dir`` shows, from its dumped config: the
    method (``model.type``), the target domains, the model the run
    evaluates (teacher or student) and chance accuracy (%)."""
    from mmengine.config import Config

    from mbcd_mmaction.datasets.protocols import (apply_experiment,
                                                  resolved_experiment)
    cfg = Config.fromfile(config or _work_dir_config(work_dir))
    apply_experiment(cfg)
    model = cfg.get('model', None) or {}
    evaluated = model.get('evaluate_with', None) or (
        'teacher' if model.get('teacher', None) else 'student')
    num_classes = model.get('num_classes', None)
    return dict(method=model.get('type', None),
                target=(resolved_experiment(cfg)['test'] or {}).get(
                    'domains', None),
                model=evaluated, num_classes=num_classes,
                chance=100.0 / num_classes if num_classes else None)


def load_run(work_dir: str, checkpoint: Optional[str] = None,
             config: Optional[str] = None, split: str = 'test',
             device: Optional[str] = None):
    """``(model, TargetData, checkpoint path)`` of a trained run: its
    config (the one dumped in the work dir), its best source-validation
    checkpoint (or ``checkpoint``), and the batches of ``split``'s
    dataloader (``'test'``: the target domains; ``'val'``: source
    validation)."""
    from mmaction.registry import MODELS
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner, load_checkpoint

    from mbcd_mmaction.datasets.protocols import apply_experiment
    cfg = Config.fromfile(config or _work_dir_config(work_dir))
    apply_experiment(cfg)
    checkpoint = checkpoint or _best_checkpoint(work_dir)
    device = device or ('cuda' if torch.cuda.is_available() else 'cpu')
    model = MODELS.build(cfg.model)
    load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
    model.to(device).eval()
    loader_cfg = copy.deepcopy(cfg[f'{split}_dataloader'])
    loader_cfg['persistent_workers'] = False
    # the dataset and transform names are resolved in the config's scope
    with DefaultScope.overwrite_default_scope(
            cfg.get('default_scope', 'mmaction')):
        loader = Runner.build_dataloader(loader_cfg)

    def batches():
        for data_batch in loader:
            data = model.data_preprocessor(data_batch, False)
            labels = torch.cat([s.gt_label.reshape(-1)
                                for s in data['data_samples']])
            yield data['inputs'], labels.to(device)
    modalities = tuple(cfg.model.get('modalities') or ())
    return model, TargetData(batches, modalities), checkpoint
