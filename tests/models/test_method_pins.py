"""Pinned losses, gradients and predictions of every shipped method.

ERM, EMA, MBCD, GMP, MBCD+GMP and the MBCD Table 4/5 and GMP ablation rows
are built from their shipped configs (only the encoders are swapped for the
tiny stubs of :mod:`tests.models.tiny`), given weights that depend on the
parameter names only, and run one training forward/backward on a fixed
batch. Every loss-dict value, a fingerprint of every trainable parameter's
gradient and the eval-mode logits are compared with the values pinned in
``tests/data/pins/method_pins.pt``. A refactoring of the models must leave
them unchanged (float tolerance); a change of a method's numbers must be
deliberate: regenerate with

    python tests/models/test_method_pins.py --write

and say why in the commit. Dropout inside the heads and GMP's projection is
set to 0 (the pins then do not depend on the order of random draws between
components); the adaptive modality dropout of MBCD keeps drawing its masks.
"""
import argparse
import math
import os.path as osp
import zlib

import pytest
import torch
from mmaction.registry import MODELS
from mmengine.config import Config

from mbcd_mmaction.experiments.grid import MODALITIES as MODALITY_CODES
from tests.models import tiny

PIN_FILE = osp.join(osp.dirname(osp.dirname(__file__)), 'data', 'pins',
                    'method_pins.pt')
ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

#: pin name -> shipped config[:modalities option]
CASES = {
    'erm_vaf': 'configs/erm/erm_epic.py',
    'erm_va': 'configs/erm/erm_epic.py:va',
    'ema_vaf': 'configs/ema/ema_epic.py',
    'mbcd_vaf': 'configs/mbcd/mbcd_epic.py',
    'mbcd_af': 'configs/mbcd/mbcd_epic.py:af',
    'gmp_va': 'configs/gmp/gmp_epic.py:va',
    'gmp_vaf': 'configs/gmp/gmp_epic.py',
    'mbcd_gmp_vaf': 'configs/mbcd/mbcd_gmp_epic.py',
    'mbcd_gmp_va': 'configs/mbcd/mbcd_gmp_epic.py:va',
    'table4_ema_amd_af': 'configs/mbcd/table4_ema_amd_epic_af.py',
    'table4_ema_gcc_af': 'configs/mbcd/table4_ema_gcc_epic_af.py',
    'table4_ema_dl_af': 'configs/mbcd/table4_ema_dl_epic_af.py',
    'table5_fixdrop_af': 'configs/mbcd/table5_fixdrop_epic_af.py',
    'table5_nodrop_af': 'configs/mbcd/table5_nodrop_epic_af.py',
    'gmp_pcgrad_va': 'configs/gmp/gmp_pcgrad_epic_va.py',
    'gmp_shared_coef_va': 'configs/gmp/gmp_shared_coef_epic_va.py',
    'gmp_demo_vaf': 'configs/gmp/gmp_epic_demo.py',
}
SOURCE_DOMAINS = ['D2', 'D3']
#: keys set wherever they occur in the model cfg
OVERRIDES = dict(num_classes=tiny.NUM_CLASSES, dropout_ratio=0.0,
                 proj_dropout=0.0, source_domains=SOURCE_DOMAINS)
N_PROJ = 3  # random projections per gradient


def _override(node):
    if isinstance(node, dict):
        return {k: OVERRIDES[k] if k in OVERRIDES else _override(v)
                for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        return type(node)(_override(v) for v in node)
    return node


def _model_cfg(case):
    path, _, mods = case.partition(':')
    cfg = Config.fromfile(osp.join(ROOT, path))
    if mods:
        cfg.modalities = MODALITY_CODES[mods]
    model = _override(cfg.model.to_dict())
    model['encoders'] = {m: tiny.ENCODERS[m]() for m in tiny.ENCODERS}
    model['modalities'] = tuple(cfg.modalities)
    return model, tuple(cfg.modalities)


def _generator(name):
    return torch.Generator().manual_seed(zlib.crc32(name.encode()))


@torch.no_grad()
def _set_weights_by_name(model):
    """Weights that depend only on each parameter's name, not on the order
    in which modules are built (teacher copies get their own values, so the
    teacher differs from the student)."""
    for name, p in model.named_parameters():
        g = _generator(name)
        noise = torch.randn(p.shape, generator=g, dtype=torch.float64)
        if p.dim() > 1:
            fan_in = p[0].numel()
            p.copy_(noise * math.sqrt(1.0 / fan_in))
        elif name.endswith('weight'):  # norm scales
            p.copy_(1.0 + 0.1 * noise)
        else:
            p.copy_(0.1 * noise)


def _fingerprint(grad, name):
    """Sum, |sum|, sum of squares, the first 4 values and ``N_PROJ`` random
    projections (float64) of a gradient: small, and any change of the
    gradient shows."""
    g = grad.detach().double().reshape(-1)
    r = torch.randn(N_PROJ, g.numel(), generator=_generator('proj:' + name),
                    dtype=torch.float64)
    head = torch.zeros(4, dtype=torch.float64)
    head[:min(4, g.numel())] = g[:4]
    return torch.cat([torch.stack([g.sum(), g.abs().sum(), (g * g).sum()]),
                      head, r @ g])


def compute(case):
    """One training forward/backward and an eval forward of the config's
    model on the fixed batch."""
    model_cfg, mods = _model_cfg(case)
    torch.manual_seed(0)
    model = MODELS.build(model_cfg)
    model.init_weights()
    _set_weights_by_name(model)
    model.train()
    data = tiny.with_domains(tiny.batch(4, mods, seed=0), SOURCE_DOMAINS)
    data = model.data_preprocessor(data, True)
    torch.manual_seed(1)
    losses = model(**data, mode='loss')
    total = sum(v for k, v in losses.items() if 'loss' in k)
    model.zero_grad()
    total.backward()
    grads = {n: None if p.grad is None else _fingerprint(p.grad, n)
             for n, p in model.named_parameters() if p.requires_grad}
    model.eval()
    with torch.no_grad():
        logits = model(data['inputs'], mode='tensor')
    return dict(losses={k: float(v.detach()) for k, v in losses.items()},
                grads=grads,
                logits={k: v.detach().double() for k, v in logits.items()})


@pytest.fixture(scope='module')
def pins():
    return torch.load(PIN_FILE)


#: the fast tier; the other cases (ablation rows, bimodal twins) are slow
FAST = ('erm_vaf', 'ema_vaf', 'mbcd_vaf', 'gmp_vaf', 'mbcd_gmp_vaf')


@pytest.mark.parametrize('name', [
    n if n in FAST else pytest.param(n, marks=pytest.mark.slow)
    for n in sorted(CASES)])
def test_method_matches_its_pins(name, pins):
    ref, got = pins[name], compute(CASES[name])
    summed = {k for k in ref['losses'] if 'loss' in k}
    assert {k for k in got['losses'] if 'loss' in k} == summed
    for k, v in ref['losses'].items():
        if k not in got['losses']:
            # a logged value only: the pins predate ERM's ConcatFusion,
            # when ERM logged the 0 drop probability of a switched-off
            # adaptive dropout
            assert k.endswith('_drop_prob') and v == 0.0, k
            continue
        # float32 sums round differently with the number of compute
        # threads and the CPU's vector width: 1e-4 relative (a change of a
        # method moves these by far more). A cosine of two gradients is a
        # difference of large sums: an absolute tolerance.
        assert got['losses'][k] == pytest.approx(
            v, rel=1e-4, abs=1e-4 if k.endswith('_gmp_cos') else 1e-7), k
    assert set(got['losses']) <= set(ref['losses'])
    assert got['grads'].keys() == ref['grads'].keys()
    # A gradient that is zero in exact arithmetic (a bias before a
    # BatchNorm) is float32 rounding whose size depends on the number of
    # compute threads: no tolerance below 1e-6 of the largest gradient.
    floor = 1e-6 * max(float(r[1]) for r in ref['grads'].values()
                       if r is not None)
    for n, r in ref['grads'].items():
        g = got['grads'][n]
        assert (g is None) == (r is None), f'{n}: gradient presence'
        if r is not None:
            # tolerance relative to the gradient's size (float32 sums)
            scale = max(float(r[1]), floor)
            torch.testing.assert_close(g, r, rtol=1e-4, atol=1e-5 * scale,
                                       msg=n)
    assert got['logits'].keys() == ref['logits'].keys()
    for k, v in ref['logits'].items():
        torch.testing.assert_close(got['logits'][k], v, rtol=1e-4,
                                   atol=1e-5)


def test_pins_exercise_the_gradient_paths(pins):
    """The pinned cases are not degenerate: distillation has a gradient,
    GMP projects somewhere, and MBCD's adaptive dropout is active."""
    mbcd = pins['mbcd_vaf']
    assert mbcd['losses']['loss_distill'] > 0
    assert any(v > 0 for k, v in mbcd['losses'].items()
               if k.endswith('_drop_prob'))
    gmp = pins['gmp_vaf']['losses']
    assert any(k.endswith('_loss_domain') for k in gmp)
    for case in pins.values():
        assert all(math.isfinite(v) for v in case['losses'].values())


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description='Regenerate the pins.')
    parser.add_argument('--write', action='store_true')
    args = parser.parse_args()
    import mbcd_mmaction.registration  # noqa: F401  (registers every component)
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmaction'):
        out = {name: compute(path) for name, path in CASES.items()}
    for name, case in out.items():
        print(name, {k: round(v, 5) for k, v in case['losses'].items()
                     if 'loss' in k})
    if args.write:
        import io
        from mbcd_mmaction.engine.runner.atomic import atomic_write_bytes
        buf = io.BytesIO()
        torch.save(out, buf)
        atomic_write_bytes(PIN_FILE, buf.getvalue())
        print('wrote', PIN_FILE, len(buf.getvalue()), 'bytes')
